-- docker-compose.yml: a database per service (ARCHITECTURE.md), made at the first start of
-- the PostgreSQL container. Each service migrates its own database when it starts.
CREATE DATABASE revisit_gateway;
CREATE DATABASE revisit_customer;
CREATE DATABASE revisit_visit;
CREATE DATABASE revisit_complaint;
CREATE DATABASE revisit_survey;
CREATE DATABASE revisit_kpi;
CREATE DATABASE revisit_notify;
