-- The entrants of the quiz benchmark (bench/quiz.sh), in SQL (a minute, not hours
-- through the API). Run after `unionhall demo`, once the quiz exists and is in
-- `registration`:
--
--   psql -v ON_ERROR_STOP=1 -v members=300000 -v quiz_id=… -f bench/quiz_load.sql postgres://…/db
--
-- For n = 1..members, three rows written as the service would have written them:
--   members   one active membership (same shape as bench/members_load.sql: every column
--             of migrations/src/m20261129_000002_members.rs, sealed personal data copied
--             from a demo member so that it decrypts, unique hashes and card numbers);
--             org_id round-robin over every organisation below the root, all inside the
--             quiz organiser's (the root union's) subtree
--   users     the member's login account, as users::set_member_account makes it:
--             username = card number, display name = the member's name, org = the
--             member's union, no role bindings, member_id set. The password hash is not a
--             PHC string, so no password matches it: the benchmark mints the accounts'
--             access tokens itself (bench/quiz_tokens.py)
--   competition_registrations   the member's own registration (created_by = their
--             account), made inside the registration window
-- and competitions.registered set to the count, as register() keeps it.
--
-- Ids follow a pattern so that wrk and pgbench can name row n without a lookup:
--   member n        01910000-0000-7000-8000-<n, 12 digits>
--   account n       01920000-0000-7000-8000-<n, 12 digits>
--   registration n  01940000-0000-7000-8000-<n, 12 digits>
-- (bench/quiz.sh renumbers the attempts the service creates the same way: 01930000-…).
\set ON_ERROR_STOP on
SET synchronous_commit = off;

CREATE FUNCTION pg_temp.luhn(p text) RETURNS text LANGUAGE sql IMMUTABLE AS $$
    SELECT ((10 - sum(CASE WHEN (length(p) - i) % 2 = 0
                           THEN (substr(p, i, 1)::int * 2) - CASE WHEN substr(p, i, 1)::int >= 5 THEN 9 ELSE 0 END
                           ELSE substr(p, i, 1)::int END) % 10) % 10)::text
    FROM generate_series(1, length(p)) AS i
$$;

BEGIN;
CREATE TEMP TABLE bench_orgs ON COMMIT DROP AS
    SELECT id, (row_number() OVER (ORDER BY path) - 1)::int AS k
    FROM orgs WHERE parent_id IS NOT NULL;
CREATE TEMP TABLE bench_sealed ON COMMIT DROP AS
    SELECT id_number_enc, phone_enc FROM members WHERE status = 'active' ORDER BY id LIMIT 1;
CREATE TEMP TABLE bench_quiz ON COMMIT DROP AS
    SELECT id, registration_opens, registration_closes FROM competitions
    WHERE id = :'quiz_id' AND kind = 'quiz' AND status = 'registration';
DO $$
BEGIN
    IF (SELECT count(*) FROM bench_orgs) = 0 THEN RAISE EXCEPTION 'no organisations below the root: run `unionhall demo` first'; END IF;
    IF (SELECT count(*) FROM bench_sealed) = 0 THEN RAISE EXCEPTION 'no member to copy sealed values from: run `unionhall demo` first'; END IF;
    IF (SELECT count(*) FROM bench_quiz) = 0 THEN RAISE EXCEPTION 'the quiz is missing, or not a quiz in registration'; END IF;
END $$;

CREATE TEMP TABLE bench_entrants ON COMMIT DROP AS
SELECT g.i AS n,
       ('01910000-0000-7000-8000-' || lpad(g.i::text, 12, '0'))::uuid AS member_id,
       ('01920000-0000-7000-8000-' || lpad(g.i::text, 12, '0'))::uuid AS user_id,
       o.id AS org_id,
       substr('王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘', 1 + g.i % 37, 1)
           || substr('伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰萍红鹏辉建国志文斌', 1 + (g.i / 37) % 37, 1)
           || CASE WHEN g.i % 3 = 0 THEN '' ELSE substr('宇浩凯健俊帆鑫林海波亮成飞龙峰晨雪琳晶颖婷慧佳', 1 + (g.i / 1369) % 23, 1) END
           AS name,
       '36' || (910000000000 + g.i)::text || pg_temp.luhn('36' || (910000000000 + g.i)::text) AS card_no,
       timestamptz '2024-01-01 00:00:00+08' + g.i * interval '1 minute' AS joined_at
FROM generate_series(1, :members) AS g(i)
JOIN bench_orgs o ON o.k = g.i % (SELECT count(*) FROM bench_orgs);

INSERT INTO members (id, org_id, name, gender, birth_date, id_number_enc, id_number_hash,
                     phone_enc, phone_hash, employer, occupation, employment_form, card_no,
                     status, joined_on, version, created_at, updated_at)
SELECT e.member_id, e.org_id, e.name,
       CASE WHEN e.n % 2 = 0 THEN 'male' ELSE 'female' END,
       date '1966-01-01' + ((e.n::bigint * 7919) % 12400)::int,
       s.id_number_enc,
       encode(sha256(convert_to('bench-quiz-id-number:' || e.n, 'UTF8')), 'hex'),
       s.phone_enc,
       encode(sha256(convert_to('bench-quiz-phone:' || e.n, 'UTF8')), 'hex'),
       (ARRAY['美团', '饿了么', '顺丰速运', '滴滴出行', NULL])[1 + e.n % 5],
       (ARRAY['delivery_rider', 'ride_hailing_driver', 'courier', 'live_streamer', 'community_ecommerce',
              'truck_driver', 'domestic_worker', 'factory_worker', 'other'])[1 + e.n % 9],
       CASE WHEN e.n % 4 = 0 THEN 'standard' ELSE 'gig' END,
       e.card_no, 'active', (e.joined_at AT TIME ZONE 'Asia/Shanghai')::date, 1, e.joined_at, e.joined_at
FROM bench_entrants e CROSS JOIN bench_sealed s;

INSERT INTO users (id, username, password_hash, display_name, org_id, disabled, member_id,
                   version, created_at, updated_at)
SELECT e.user_id, e.card_no, '!bench: no password opens this account', e.name, e.org_id,
       false, e.member_id, 1, e.joined_at, e.joined_at
FROM bench_entrants e;

INSERT INTO competition_registrations (id, competition_id, member_id, member_org_id, created_by, created_at)
SELECT ('01940000-0000-7000-8000-' || lpad(e.n::text, 12, '0'))::uuid, q.id, e.member_id, e.org_id,
       e.user_id,
       q.registration_opens + (q.registration_closes - q.registration_opens) * e.n / (:members + 1)
FROM bench_entrants e CROSS JOIN bench_quiz q;

UPDATE competitions SET registered = (SELECT count(*) FROM competition_registrations r WHERE r.competition_id = competitions.id)
WHERE id = :'quiz_id';
COMMIT;

ANALYZE members;
ANALYZE users;
ANALYZE competition_registrations;
ANALYZE competitions;
