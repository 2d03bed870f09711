-- GET /v1/stations?near=LAT,LNG&radius_m=3000 without a token: the one statement the
-- search runs, as captured from PostgreSQL's log (bench/stations.sh checks it on every
-- run). A random point of the province's box; the box around it as the service builds
-- it (crates/domain/src/geo.rs): seven 0.01° latitude bands from the band of its
-- southern edge, the latitude bounds ± the radius's angle (:half degrees, with the
-- 1e-9° slack), and the longitude bounds ± asin(sin(angle) / cos(lat)) — pgbench has no
-- trigonometry, so PostgreSQL computes those two parameters (between /*p*/ marks).
\set lat 24.5 + random(0, 5600000) / 1000000.0
\set lng 113.6 + random(0, 4900000) / 1000000.0
\set b0 int((:lat - :half) * 100)
\set b1 :b0 + 1
\set b2 :b0 + 2
\set b3 :b0 + 3
\set b4 :b0 + 4
\set b5 :b0 + 5
\set b6 :b0 + 6
\set lat_min :lat - :half
\set lat_max :lat + :half
SELECT "stations"."id", "stations"."org_id", "stations"."name", "stations"."address", "stations"."lat", "stations"."lng", "stations"."amenities", "stations"."opening_hours", "stations"."status", "stations"."phone", "stations"."version", "stations"."created_at", "stations"."updated_at", "orgs"."path" AS "org_path", "orgs"."time_zone" AS "org_time_zone" FROM "stations" INNER JOIN "orgs" ON "stations"."org_id" = "orgs"."id" WHERE "stations"."lat_band" IN (:b0, :b1, :b2, :b3, :b4, :b5, :b6) AND ("stations"."lng" BETWEEN /*p*/:lng - (degrees(asin(sin(:angle) / cos(radians(:lat)))) + 1e-9)/*p*/ AND /*p*/:lng + (degrees(asin(sin(:angle) / cos(radians(:lat)))) + 1e-9)/*p*/) AND ("stations"."lat" BETWEEN :lat_min AND :lat_max);
