-- a table in a schema nobody made fails on the server: check() says error
CREATE TABLE no_such_schema.t (id int);
