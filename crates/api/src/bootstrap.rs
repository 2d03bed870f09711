//! First-start duties: the JWT secret and personal-data key when none is configured, the root organisation
//! and the first federation admin, and `admin create` for later admins.

use crate::auth::password;
use crate::config::{Backend, Config};
use crate::server::StartError;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::RngCore;
use std::io::Write;
use unionhall_domain::orgs::{DEFAULT_TIME_ZONE, Org, OrgKind};
use unionhall_domain::roles::Role;
use unionhall_domain::users::RoleBinding;
use unionhall_persistence::orgs::{self, NewOrg};
use unionhall_persistence::users::{self, NewUser};
use unionhall_persistence::{Db, db};

/// A random URL-safe secret of `bytes` random bytes.
pub fn random_secret(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    rand::thread_rng().fill_bytes(&mut buf);
    URL_SAFE_NO_PAD.encode(buf)
}

/// The configured JWT secret, or on SQLite one generated at first start and kept in
/// `data_dir/jwt-secret` (mode 0600), so tokens survive restarts.
pub fn jwt_secret(config: &Config) -> Result<String, StartError> {
    if let Some(secret) = &config.jwt_secret {
        return Ok(secret.clone());
    }
    if config.backend() == Backend::Postgres {
        return Err("configuration: UNIONHALL_JWT_SECRET: required with PostgreSQL".into());
    }
    let path = config.data_dir.join("jwt-secret");
    if let Ok(existing) = std::fs::read_to_string(&path) {
        let existing = existing.trim().to_owned();
        if existing.len() >= 32 {
            return Ok(existing);
        }
    }
    std::fs::create_dir_all(&config.data_dir)
        .map_err(|e| format!("configuration: UNIONHALL_DATA_DIR: {e}"))?;
    let secret = random_secret(48);
    let mut file =
        open_private(&path).map_err(|e| format!("can't write {}: {e}", path.display()))?;
    file.write_all(secret.as_bytes())
        .map_err(|e| format!("can't write {}: {e}", path.display()))?;
    Ok(secret)
}

/// The configured personal-data key, or on SQLite one generated at first start and
/// kept in `data_dir/pii-key` (mode 0600), so sealed data stays readable across
/// restarts.
pub fn pii_key(config: &Config) -> Result<String, StartError> {
    if let Some(key) = &config.pii_key {
        return Ok(key.trim().to_owned());
    }
    if config.backend() == Backend::Postgres {
        return Err("configuration: UNIONHALL_PII_KEY: required with PostgreSQL".into());
    }
    let path = config.data_dir.join("pii-key");
    if let Ok(existing) = std::fs::read_to_string(&path) {
        let existing = existing.trim().to_owned();
        if crate::pii::is_valid_key(&existing) {
            return Ok(existing);
        }
        // Never overwrite a key file we can't read as a key: data sealed under it
        // would be lost for good.
        return Err(format!(
            "{} does not hold a 64-hex-character key; fix or remove it",
            path.display()
        )
        .into());
    }
    std::fs::create_dir_all(&config.data_dir)
        .map_err(|e| format!("configuration: UNIONHALL_DATA_DIR: {e}"))?;
    let key = crate::pii::generate_key_hex();
    let mut file =
        open_private(&path).map_err(|e| format!("can't write {}: {e}", path.display()))?;
    file.write_all(key.as_bytes())
        .map_err(|e| format!("can't write {}: {e}", path.display()))?;
    Ok(key)
}

#[cfg(unix)]
fn open_private(path: &std::path::Path) -> std::io::Result<std::fs::File> {
    use std::os::unix::fs::OpenOptionsExt;
    std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)
}

#[cfg(not(unix))]
fn open_private(path: &std::path::Path) -> std::io::Result<std::fs::File> {
    std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .open(path)
}

/// On an empty database, creates the root organisation and the first federation admin.
/// The admin's password comes from `UNIONHALL_ADMIN_PASSWORD`, or is generated and
/// printed once. Two nodes starting together can't both do it: the second one's
/// insert hits the unique code and it carries on.
pub async fn first_start(db: &Db, config: &Config) -> Result<(), StartError> {
    if orgs::count_all(db).await? > 0 {
        return Ok(());
    }
    let (password, generated) = match &config.admin_password {
        Some(p) => (p.clone(), false),
        None => (random_secret(18), true),
    };
    let hash = password::hash(password.clone())
        .await
        .map_err(|e| e.to_string())?;
    let txn = db::begin_write(db).await?;
    let root = orgs::insert(
        &txn,
        None,
        NewOrg {
            name: config.root_org_name.clone(),
            code: config.root_org_code.clone(),
            kind: OrgKind::ProvincialFederation,
            region_code: Some(config.root_org_region_code.clone()),
            time_zone: DEFAULT_TIME_ZONE.into(),
        },
    )
    .await;
    let root = match root {
        Err(e) if e.is_conflict_on("code") => return Ok(()),
        other => other?,
    };
    create_admin(
        &txn,
        &root,
        &config.admin_username,
        hash,
        Role::FederationAdmin,
    )
    .await?;
    txn.commit()
        .await
        .map_err(unionhall_persistence::StoreError::from)?;
    if generated {
        // Printed once, to the terminal of whoever started the service; never logged.
        println!(
            "UnionHall: created {} ({}) and its first admin.\n  username: {}\n  password: {}\nThis password is shown only once.",
            root.name, root.code, config.admin_username, password
        );
    } else {
        tracing::info!(org = %root.code, username = %config.admin_username, "created the root organisation and first admin");
    }
    Ok(())
}

async fn create_admin(
    db: &impl unionhall_persistence::ConnectionTrait,
    org: &Org,
    username: &str,
    password_hash: String,
    role: Role,
) -> Result<(), StartError> {
    users::insert(
        db,
        NewUser {
            username: username.to_owned(),
            password_hash,
            display_name: username.to_owned(),
            org_id: org.id,
            roles: vec![RoleBinding {
                role,
                org_id: org.id,
            }],
        },
    )
    .await
    .map(|_| ())
    .map_err(|e| {
        if e.is_conflict_on("username") {
            format!("username `{username}` is taken").into()
        } else {
            StartError::from(e)
        }
    })
}

/// `unionhall admin create`: an admin bound to the organisation with `org_code`.
pub async fn admin_create(
    db: &Db,
    org_code: &str,
    username: &str,
    password: String,
    role: Role,
) -> Result<(), StartError> {
    unionhall_domain::users::check_username(username).map_err(|e| format!("--username: {e}"))?;
    unionhall_domain::users::check_password(&password).map_err(|e| format!("password: {e}"))?;
    let org = orgs::find_by_code_unscoped(db, org_code)
        .await?
        .ok_or_else(|| format!("--org: no organisation with code `{org_code}`"))?;
    let hash = password::hash(password).await.map_err(|e| e.to_string())?;
    create_admin(db, &org, username, hash, role).await?;
    println!(
        "created {} `{username}` at {} ({})",
        role.as_str(),
        org.name,
        org.code
    );
    Ok(())
}
