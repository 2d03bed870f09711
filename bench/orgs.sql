-- GET /v1/orgs?limit=50 while the tree is unchanged: the principal lookup, the only
-- statement the request runs, as captured from the PostgreSQL log. It reads the tree's
-- version too; the page built at that version is kept by the instance (page_cache.rs),
-- so only the first request after a change runs orgs_built.sql.
SELECT "users"."id" AS "user_id", "users"."username", "users"."display_name", "users"."org_id" AS "user_org_id", "users"."disabled", "users"."member_id", "role_bindings"."role" AS "role", "role_bindings"."org_id" AS "org_id", "orgs"."path" AS "path", (SELECT "version" FROM "org_tree" WHERE "id" = 1) AS "tree_version" FROM "users" LEFT JOIN "role_bindings" ON "users"."id" = "role_bindings"."user_id" LEFT JOIN "orgs" ON "role_bindings"."org_id" = "orgs"."id" WHERE "users"."id" IN (:admin_id::uuid);
