# migration_guard: PGXS build
MODULE_big = migration_guard
OBJS = \
	src/migration_guard.o \
	src/hook.o \
	src/authorize.o \
	src/first_lock.o \
	src/inspect.o \
	src/inspect_lock_only.o \
	src/inspect_cascade.o \
	src/inspect_domain.o \
	src/inspect_partition.o \
	src/inspect_maintenance.o \
	src/relstats.o \
	src/given_sizes.o \
	src/hold_time.o \
	src/rules.o \
	src/suggest.o \
	src/check.o \
	src/plan.o \
	src/plan_steps.o \
	src/audit.o \
	src/held_locks.o \
	src/unused_tables.o
PGFILEDESC = "migration_guard - refuses DDL that would take production down"

EXTENSION = migration_guard
DATA = migration_guard--1.0.sql

# The tests need the library preloaded: they run on a temporary instance.
REGRESS = setup rules modes check_fn audit locks engine_agreement audit_table backfill plan hold_time
REGRESS_OPTS = --temp-config=$(srcdir)/test/regress.conf
NO_INSTALLCHECK = 1

PG_CPPFLAGS = -I$(srcdir)/src
# The hook's fast path runs for every utility statement of the server: it
# needs no frame of its own (Debian builds with -fno-omit-frame-pointer,
# which would give it one).
src/hook.o: CFLAGS += -fomit-frame-pointer
# No LLVM bitcode: nothing of ours is worth inlining into JIT-compiled
# expressions, and a plain "make" then needs only gcc.
override with_llvm = no
PG_CONFIG ?= pg_config
PGXS := $(shell $(PG_CONFIG) --pgxs 2>/dev/null)
ifneq ($(PGXS),)
include $(PGXS)
# what each major changed, checked against its engine where it runs
ifeq ($(shell test $(VERSION_NUM) -ge 170000 && echo yes),yes)
REGRESS += engine_agreement_17
endif
ifeq ($(shell test $(VERSION_NUM) -ge 180000 && echo yes),yes)
REGRESS += engine_agreement_18
endif
endif

# The schedule for this major, for test/run_suites.sh
.PHONY: print-regress
print-regress:
	@echo $(REGRESS)

# The story in one command (installs what is missing when run as root):
# make demo, or make demo KEEP=1 to leave the cluster running.
.PHONY: demo
demo:
	bash demo/run.sh $(if $(KEEP),--keep)
