-- GET /v1/members?org_id=<city>&limit=50: the principal lookup, the organisation looked
-- up inside the caller's reach, then one keyset page of the members of its subtree
-- (orgs joined for the materialised path, in id order). As captured from PostgreSQL's
-- statement log (log_statement=all) for one request; bench/roster.sh captures it again
-- on every run and stops if this file no longer matches. The service binds every value,
-- the `1 = 0` of its reach condition too, so they are variables here as well.
-- Variables (pgbench -D): admin_id, root_path, root_upper, city_id, city_path, city_upper.
\set one 1
\set zero 0
\set page 51
SELECT "users"."id" AS "user_id", "users"."username", "users"."display_name", "users"."org_id" AS "user_org_id", "users"."disabled", "users"."member_id", "role_bindings"."role" AS "role", "role_bindings"."org_id" AS "org_id", "orgs"."path" AS "path", (SELECT "version" FROM "org_tree" WHERE "id" = 1) AS "tree_version" FROM "users" LEFT JOIN "role_bindings" ON "users"."id" = "role_bindings"."user_id" LEFT JOIN "orgs" ON "role_bindings"."org_id" = "orgs"."id" WHERE "users"."id" IN (:admin_id::uuid);
SELECT "orgs"."id", "orgs"."name", "orgs"."code", "orgs"."kind", "orgs"."parent_id", "orgs"."path", "orgs"."depth", "orgs"."region_code", "orgs"."time_zone", "orgs"."version", "orgs"."created_at", "orgs"."updated_at" FROM "orgs" WHERE "orgs"."id" = :city_id::uuid AND (:one::int4 = :zero::int4 OR ("orgs"."path" >= :root_path AND "orgs"."path" < :root_upper)) LIMIT :one;
SELECT "members"."id", "members"."org_id", "members"."name", "members"."gender", "members"."birth_date", "members"."id_number_enc", "members"."id_number_hash", "members"."phone_enc", "members"."phone_hash", "members"."employer", "members"."occupation", "members"."employment_form", "members"."card_no", "members"."status", "members"."joined_on", "members"."version", "members"."created_at", "members"."updated_at" FROM "members" INNER JOIN "orgs" ON "members"."org_id" = "orgs"."id" WHERE (:one::int4 = :zero::int4 OR ("orgs"."path" >= :root_path AND "orgs"."path" < :root_upper)) AND (:one::int4 = :zero::int4 OR ("orgs"."path" >= :city_path AND "orgs"."path" < :city_upper)) ORDER BY "members"."id" ASC LIMIT :page;
