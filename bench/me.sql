-- GET /v1/me: the principal lookup, the only statement the request runs, as captured
-- from the PostgreSQL log (log_statement=all) for one request on its own. Under load
-- the service batches concurrent lookups into one IN (…) list (auth/callers.rs);
-- the ceiling keeps the one-request statement, so batching shows in the ratio.
SELECT "users"."id" AS "user_id", "users"."username", "users"."display_name", "users"."org_id" AS "user_org_id", "users"."disabled", "users"."member_id", "role_bindings"."role" AS "role", "role_bindings"."org_id" AS "org_id", "orgs"."path" AS "path", (SELECT "version" FROM "org_tree" WHERE "id" = 1) AS "tree_version" FROM "users" LEFT JOIN "role_bindings" ON "users"."id" = "role_bindings"."user_id" LEFT JOIN "orgs" ON "role_bindings"."org_id" = "orgs"."id" WHERE "users"."id" IN (:admin_id::uuid);
