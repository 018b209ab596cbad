-- SPDX-License-Identifier: Apache-2.0
-- The demo's database transaction (scripts/demo-servers): one account read
-- and a short wait inside a transaction, so each client holds a pgbouncer
-- server connection for ~50 ms without burning CPU. In transaction pooling a
-- client needs a server connection only inside BEGIN ... END.
\set aid random(1, 100000 * :scale)
BEGIN;
SELECT abalance FROM pgbench_accounts WHERE aid = :aid;
SELECT pg_sleep(0.05);
END;
