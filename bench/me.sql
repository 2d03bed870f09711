-- GET /v1/me: the principal lookup, the only statement the request runs
-- (as seen in the PostgreSQL log with log_statement=all).
SELECT "users"."username", "users"."display_name", "users"."org_id" AS "user_org_id", "users"."disabled", "role_bindings"."role" AS "role", "role_bindings"."org_id" AS "org_id", "orgs"."path" AS "path" FROM "users" LEFT JOIN "role_bindings" ON "users"."id" = "role_bindings"."user_id" LEFT JOIN "orgs" ON "role_bindings"."org_id" = "orgs"."id" WHERE "users"."id" = :admin_id::uuid;
