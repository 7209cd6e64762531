-- version 1.0: a table with data
CREATE TABLE mg_update_test.readings (id int PRIMARY KEY, v text);
INSERT INTO mg_update_test.readings
SELECT g, md5(g::text) FROM generate_series(1, 30000) g;
