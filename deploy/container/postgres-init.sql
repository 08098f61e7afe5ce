-- One database per service (POSTGRES_DB makes dealgate_catalog); run once on a new cluster.
CREATE DATABASE dealgate_deals;
CREATE DATABASE dealgate_conflict;
