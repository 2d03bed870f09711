//! The audit trail of sensitive reads (reveals of personal data): append-only.

use crate::entities::audit_events;
use crate::{Page, PageRequest, StoreError};
use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, Set,
};
use unionhall_domain::UserId;
use uuid::Uuid;

/// One audited action: who did what to whose data, why, when, in which request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditEvent {
    pub id: Uuid,
    pub actor_user_id: UserId,
    pub action: String,
    pub subject_type: String,
    pub subject_id: Uuid,
    pub fields: Vec<String>,
    pub reason: String,
    pub request_id: String,
    pub at: DateTime<Utc>,
}

fn to_domain(m: audit_events::Model) -> AuditEvent {
    AuditEvent {
        id: m.id,
        actor_user_id: UserId(m.actor_user_id),
        action: m.action,
        subject_type: m.subject_type,
        subject_id: m.subject_id,
        fields: m
            .fields
            .split(',')
            .filter(|f| !f.is_empty())
            .map(str::to_owned)
            .collect(),
        reason: m.reason,
        request_id: m.request_id,
        at: m.at,
    }
}

/// What to record.
#[derive(Debug, Clone)]
pub struct NewAuditEvent {
    pub actor_user_id: UserId,
    pub action: &'static str,
    pub subject_type: &'static str,
    pub subject_id: Uuid,
    pub fields: Vec<&'static str>,
    pub reason: String,
    pub request_id: String,
}

/// Appends an audit row.
pub async fn record(
    db: &impl ConnectionTrait,
    new: NewAuditEvent,
) -> Result<AuditEvent, StoreError> {
    let model = audit_events::ActiveModel {
        id: Set(Uuid::now_v7()),
        actor_user_id: Set(new.actor_user_id.0),
        action: Set(new.action.to_owned()),
        subject_type: Set(new.subject_type.to_owned()),
        subject_id: Set(new.subject_id),
        fields: Set(new.fields.join(",")),
        reason: Set(new.reason),
        request_id: Set(new.request_id),
        at: Set(Utc::now()),
    }
    .insert(db)
    .await?;
    Ok(to_domain(model))
}

/// List filters.
#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    pub subject_id: Option<Uuid>,
    pub actor_user_id: Option<Uuid>,
}

/// Lists audit rows, oldest first.
pub async fn list(
    db: &impl ConnectionTrait,
    filter: &AuditFilter,
    page: PageRequest,
) -> Result<Page<AuditEvent>, StoreError> {
    let mut query = audit_events::Entity::find();
    if let Some(subject) = filter.subject_id {
        query = query.filter(audit_events::Column::SubjectId.eq(subject));
    }
    if let Some(actor) = filter.actor_user_id {
        query = query.filter(audit_events::Column::ActorUserId.eq(actor));
    }
    if let Some(after) = page.after {
        query = query.filter(audit_events::Column::Id.gt(after));
    }
    let rows = query
        .order_by_asc(audit_events::Column::Id)
        .limit(page.limit + 1)
        .all(db)
        .await?
        .into_iter()
        .map(to_domain)
        .collect();
    Ok(Page::from_rows(rows, page.limit, |e: &AuditEvent| e.id))
}
