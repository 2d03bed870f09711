-- POST /v1/bookings, staff (the admin) booking 1 unit of one 60-minute slot for a guest:
-- the statements one request runs, as captured from PostgreSQL's log (bench/palaces.sh
-- checks them on every run): the principal lookup; then in one transaction the venue,
-- its palace and union, the closures overlapping the booking, the booking's twelve
-- 5-minute booking_cells (created if missing), the conditional raise of their units
-- in a savepoint, and the booking row. A guest booking takes no booking_days lock
-- (that is for member bookings' daily limits).
-- Every transaction takes a different (venue, slot): transaction n of client c takes
-- slot index (c + clients*n + half the space) of venues x (days+1) x 14 hourly slots
-- (so not those the wrk run took first) from tomorrow
-- 08:00 Asia/Shanghai, venue varying fastest (n persists per client, -D n=0), wrapping
-- round if the run outlasts the space. /*p*/…/*p*/ marks a parameter built in SQL.
\set n :n + 1
\set k (:client_id + :clients * (:n - 1) + :venues * (:days + 1) * 7) % (:venues * (:days + 1) * 14)
\set v :k % :venues
\set r :k / :venues
\set s :day0 + 86400 * (:r / 14) + 3600 * (8 + :r % 14)
\set e :s + 3600
\set c0 :s + 0
\set c1 :s + 300
\set c2 :s + 600
\set c3 :s + 900
\set c4 :s + 1200
\set c5 :s + 1500
\set c6 :s + 1800
\set c7 :s + 2100
\set c8 :s + 2400
\set c9 :s + 2700
\set c10 :s + 3000
\set c11 :s + 3300
SELECT "users"."id" AS "user_id", "users"."username", "users"."display_name", "users"."org_id" AS "user_org_id", "users"."disabled", "users"."member_id", "role_bindings"."role" AS "role", "role_bindings"."org_id" AS "org_id", "orgs"."path" AS "path", (SELECT "version" FROM "org_tree" WHERE "id" = 1) AS "tree_version" FROM "users" LEFT JOIN "role_bindings" ON "users"."id" = "role_bindings"."user_id" LEFT JOIN "orgs" ON "role_bindings"."org_id" = "orgs"."id" WHERE "users"."id" IN (:admin_id::uuid);
BEGIN;
SELECT "venues"."id", "venues"."palace_id", "venues"."name", "venues"."kind", "venues"."units", "venues"."slot_minutes", "venues"."opening_hours", "venues"."booking_rules", "venues"."member_price_fen", "venues"."guest_price_fen", "venues"."version", "venues"."created_at", "venues"."updated_at" FROM "venues" WHERE "venues"."id" = ('01900000-0000-7000-8000-' || lpad(:v::text, 12, '0'))::uuid LIMIT :one;
SELECT "palaces"."id" AS "A_id", "palaces"."org_id" AS "A_org_id", "palaces"."name" AS "A_name", "palaces"."address" AS "A_address", "palaces"."region_code" AS "A_region_code", "palaces"."lat" AS "A_lat", "palaces"."lng" AS "A_lng", "palaces"."contact_name" AS "A_contact_name", "palaces"."contact_phone" AS "A_contact_phone", "palaces"."photos" AS "A_photos", "palaces"."time_zone" AS "A_time_zone", "palaces"."version" AS "A_version", "palaces"."created_at" AS "A_created_at", "palaces"."updated_at" AS "A_updated_at", "orgs"."id" AS "B_id", "orgs"."name" AS "B_name", "orgs"."code" AS "B_code", "orgs"."kind" AS "B_kind", "orgs"."parent_id" AS "B_parent_id", "orgs"."path" AS "B_path", "orgs"."depth" AS "B_depth", "orgs"."region_code" AS "B_region_code", "orgs"."time_zone" AS "B_time_zone", "orgs"."version" AS "B_version", "orgs"."created_at" AS "B_created_at", "orgs"."updated_at" AS "B_updated_at" FROM "palaces" LEFT JOIN "orgs" ON "palaces"."org_id" = "orgs"."id" WHERE "palaces"."id" = :palace_id::uuid LIMIT :one;
SELECT "venue_closures"."id", "venue_closures"."venue_id", "venue_closures"."start_at", "venue_closures"."end_at", "venue_closures"."reason", "venue_closures"."created_by", "venue_closures"."created_at" FROM "venue_closures" WHERE "venue_closures"."venue_id" = ('01900000-0000-7000-8000-' || lpad(:v::text, 12, '0'))::uuid AND "venue_closures"."start_at" < to_timestamp(:e) AND "venue_closures"."end_at" > to_timestamp(:s) ORDER BY "venue_closures"."start_at" ASC;
INSERT INTO "booking_cells" ("venue_id", "cell_start", "booked_units") VALUES (('01900000-0000-7000-8000-' || lpad(:v::text, 12, '0'))::uuid, :c0, :zero), (('01900000-0000-7000-8000-' || lpad(:v::text, 12, '0'))::uuid, :c1, :zero), (('01900000-0000-7000-8000-' || lpad(:v::text, 12, '0'))::uuid, :c2, :zero), (('01900000-0000-7000-8000-' || lpad(:v::text, 12, '0'))::uuid, :c3, :zero), (('01900000-0000-7000-8000-' || lpad(:v::text, 12, '0'))::uuid, :c4, :zero), (('01900000-0000-7000-8000-' || lpad(:v::text, 12, '0'))::uuid, :c5, :zero), (('01900000-0000-7000-8000-' || lpad(:v::text, 12, '0'))::uuid, :c6, :zero), (('01900000-0000-7000-8000-' || lpad(:v::text, 12, '0'))::uuid, :c7, :zero), (('01900000-0000-7000-8000-' || lpad(:v::text, 12, '0'))::uuid, :c8, :zero), (('01900000-0000-7000-8000-' || lpad(:v::text, 12, '0'))::uuid, :c9, :zero), (('01900000-0000-7000-8000-' || lpad(:v::text, 12, '0'))::uuid, :c10, :zero), (('01900000-0000-7000-8000-' || lpad(:v::text, 12, '0'))::uuid, :c11, :zero) ON CONFLICT ("venue_id", "cell_start") DO NOTHING;
SAVEPOINT _sqlx_savepoint_1;
UPDATE "booking_cells" SET "booked_units" = "booked_units" + :one WHERE "booking_cells"."venue_id" = ('01900000-0000-7000-8000-' || lpad(:v::text, 12, '0'))::uuid AND "booking_cells"."cell_start" >= :s AND "booking_cells"."cell_start" < :e AND "booked_units" + :one <= :cap;
RELEASE SAVEPOINT _sqlx_savepoint_1;
INSERT INTO "bookings" ("id", "venue_id", "member_id", "member_org_id", "guest_name", "start_at", "end_at", "local_date", "units", "minutes", "price_fen", "status", "no_show_after", "created_by", "cancelled_at", "cancelled_by", "checked_in_at", "checked_in_by", "created_at", "updated_at") VALUES (/*p*/gen_random_uuid()/*p*/, ('01900000-0000-7000-8000-' || lpad(:v::text, 12, '0'))::uuid, /*p*/NULL/*p*/, /*p*/NULL/*p*/, /*p*/'压测 pgbench'/*p*/, to_timestamp(:s), to_timestamp(:e), /*p*/(to_timestamp(:s) AT TIME ZONE 'Asia/Shanghai')::date/*p*/, :one, :minutes, :price, :booked, /*p*/to_timestamp(:e) + interval '15 minutes'/*p*/, :admin_id::uuid, /*p*/NULL/*p*/, /*p*/NULL/*p*/, /*p*/NULL/*p*/, /*p*/NULL/*p*/, /*p*/now()/*p*/, /*p*/now()/*p*/) RETURNING "id", "venue_id", "member_id", "member_org_id", "guest_name", "start_at", "end_at", "local_date", "units", "minutes", "price_fen", "status", "no_show_after", "created_by", "cancelled_at", "cancelled_by", "checked_in_at", "checked_in_by", "created_at", "updated_at";
COMMIT;
