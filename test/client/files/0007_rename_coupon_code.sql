-- A later release renames a column of the table 0006 created: by then the
-- application may use the old name.
ALTER TABLE coupons RENAME COLUMN code TO coupon_code;
