-- region: what each contributing organisation declares it shares (its data-sharing agreement's
-- data set), and from which date. NULL: not declared; the viewer then shows what its kind of
-- organisation usually shares, and says so.
ALTER TABLE organisation ADD COLUMN data_set text[];
ALTER TABLE organisation ADD COLUMN data_set_from date;
