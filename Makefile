# migration_guard: PGXS build
MODULE_big = migration_guard
OBJS = \
	src/migration_guard.o \
	src/hook.o \
	src/inspect.o \
	src/relstats.o \
	src/rules.o \
	src/suggest.o \
	src/check.o \
	src/audit.o \
	src/held_locks.o
PGFILEDESC = "migration_guard - refuses DDL that would take production down"

EXTENSION = migration_guard
DATA = migration_guard--1.0.sql

# The tests need the library preloaded: they run on a temporary instance.
REGRESS = setup rules modes check_fn audit locks engine_agreement
REGRESS_OPTS = --temp-config=$(srcdir)/test/regress.conf
NO_INSTALLCHECK = 1

PG_CPPFLAGS = -I$(srcdir)/src
PG_CONFIG ?= pg_config
PGXS := $(shell $(PG_CONFIG) --pgxs)
include $(PGXS)
