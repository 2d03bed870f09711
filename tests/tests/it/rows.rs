//! The reads decoded by position (`persistence/src/rows.rs`) give exactly what sea-orm's
//! by-name decoding gives, row for row and field for field: a column read in the wrong
//! place (two text columns swapped, say the two lookup hashes, which no response shows)
//! fails here on either database.

use sea_orm::{EntityTrait, QueryOrder};
use unionhall_api::server;
use unionhall_domain::UserId;
use unionhall_persistence::entities::{members, orgs, users as user_rows};
use unionhall_persistence::{rows, users};
use unionhall_tests::TestApp;

#[tokio::test]
async fn rows_read_by_position_equal_sea_orms_by_name() {
    let app = TestApp::spawn().await;
    let state = server::prepare(app.config.clone()).await.unwrap();
    unionhall_api::demo::load(&state.db, &state.pii)
        .await
        .unwrap();
    let db = &state.db;

    let all_orgs = orgs::Entity::find().order_by_asc(orgs::Column::Id);
    let by_name = all_orgs.clone().all(db).await.unwrap();
    let by_position = rows::fetch_all::<orgs::Model>(db, &all_orgs).await.unwrap();
    assert!(by_name.len() > 20, "the demo has its organisations");
    assert_eq!(by_position, by_name);

    let all_members = members::Entity::find().order_by_asc(members::Column::Id);
    let by_name = all_members.clone().all(db).await.unwrap();
    let by_position = rows::fetch_all::<members::Model>(db, &all_members)
        .await
        .unwrap();
    assert!(by_name.len() > 20, "the demo has its members");
    assert_eq!(by_position, by_name);

    // Callers: the batch (by position) against one at a time (sea-orm, any connection).
    let ids: Vec<UserId> = user_rows::Entity::find()
        .all(db)
        .await
        .unwrap()
        .into_iter()
        .map(|u| UserId(u.id))
        .collect();
    let batch = users::callers(db, &ids).await.unwrap();
    assert_eq!(batch.len(), ids.len());
    assert!(
        batch.values().any(|c| !c.bindings.is_empty()),
        "staff with roles"
    );
    for id in ids {
        assert_eq!(
            Some(&batch[&id]),
            users::caller(db, id).await.unwrap().as_ref()
        );
    }
}
