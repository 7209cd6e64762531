SET application_name = 'bench';
SHOW work_mem;
BEGIN;
COMMIT;
PREPARE p AS SELECT 1;
EXECUTE p;
DEALLOCATE p;
