-- GET /v1/orgs?limit=50 when the instance has no page kept for it (the tree has just
-- changed, or UNIONHALL_ORG_PAGE_CACHE_ENTRIES=0): the principal lookup, then one
-- keyset page inside the caller's subtree (a range scan on the materialised path), as
-- captured from the PostgreSQL log for one request on its own (every value is bound,
-- the `1 = 0` of the reach condition too).
\set one 1
\set zero 0
\set page_and_one 51
SELECT "users"."id" AS "user_id", "users"."username", "users"."display_name", "users"."org_id" AS "user_org_id", "users"."disabled", "users"."member_id", "role_bindings"."role" AS "role", "role_bindings"."org_id" AS "org_id", "orgs"."path" AS "path", (SELECT "version" FROM "org_tree" WHERE "id" = 1) AS "tree_version" FROM "users" LEFT JOIN "role_bindings" ON "users"."id" = "role_bindings"."user_id" LEFT JOIN "orgs" ON "role_bindings"."org_id" = "orgs"."id" WHERE "users"."id" IN (:admin_id::uuid);
SELECT "orgs"."id", "orgs"."name", "orgs"."code", "orgs"."kind", "orgs"."parent_id", "orgs"."path", "orgs"."depth", "orgs"."region_code", "orgs"."time_zone", "orgs"."version", "orgs"."created_at", "orgs"."updated_at" FROM "orgs" WHERE :one::int4 = :zero::int4 OR ("orgs"."path" >= :root_path AND "orgs"."path" < :root_upper) ORDER BY "orgs"."id" ASC LIMIT :page_and_one;
