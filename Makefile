# Top-level GNU Makefile: builds libsmtpd-api, smtpd, smtpctl (and the
# names it answers to, makemap), the helpers in libexec/ and the tests.
# Sources are found by directory, so adding a file to a folder needs no
# edit here.  Before the first compile, scripts/deps.sh checks that the
# packages the build needs are there, or names them.
#
#   make               build everything (gcc by default; CC=clang works)
#   make SAN=1         build with -fsanitize=address,undefined (own O=)
#   make test          install missing dependencies, build, run regress/
#   make run           install missing dependencies, build, create the
#                      accounts (as root), run smtpd -d -r ./run
#   make fuzz          build the libFuzzer targets (clang)
#   make install       PREFIX=/usr/local DESTDIR=

PREFIX		?= /usr/local
DESTDIR		?=
SBINDIR		?= $(PREFIX)/sbin
LIBEXECDIR	?= $(PREFIX)/libexec/smtpd
MANDIR		?= $(PREFIX)/share/man
SYSCONFDIR	?= /etc/mail
SPOOLDIR	?= /var/spool/smtpd
RUNDIR		?= /run
CHROOTDIR	?= /var/empty
SMTPD_USER	?= _smtpd
SMTPQ_USER	?= _smtpq

CC		?= cc
SAN		?=
ifeq ($(SAN),1)
O		?= obj-san
SANFLAGS	:= -fsanitize=address,undefined -fno-omit-frame-pointer \
		   -fno-sanitize-recover=undefined
else
O		?= obj
SANFLAGS	:=
endif

PKGS		:= libevent libtls libbsd-overlay libcares
PKG_CFLAGS	:= $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS	:= $(shell pkg-config --libs $(PKGS) 2>/dev/null)

OPTFLAGS	?= -O2 -g
WARNFLAGS	:= -Wall -Wextra -Werror -Wno-unused-parameter \
		   -Wmissing-prototypes -Wstrict-prototypes -Wshadow
CPPFLAGS	+= -D_GNU_SOURCE \
		   -DPATH_SMTPD_CONF='"$(SYSCONFDIR)/smtpd.conf"' \
		   -DPATH_SMTPD_SPOOL='"$(SPOOLDIR)"' \
		   -DPATH_SMTPD_RUN='"$(RUNDIR)"' \
		   -DPATH_SMTPD_CHROOT='"$(CHROOTDIR)"' \
		   -DPATH_SMTPD_LIBEXEC='"$(LIBEXECDIR)"' \
		   -DSMTPD_USER='"$(SMTPD_USER)"' -DSMTPQ_USER='"$(SMTPQ_USER)"'
ALLCFLAGS	 = -std=c11 $(OPTFLAGS) $(WARNFLAGS) $(SANFLAGS) $(PKG_CFLAGS) \
		   $(call layer_inc,$<) $(CPPFLAGS) $(CFLAGS) -MMD -MP

# Layers, enforced by include paths: a folder sees only the headers of
# the layers below it.  api/ and libexec/ see only api/; the table layer
# sits below conf, so conf, control, lookup and makemap all use it
# without a cycle; each process folder sees its own headers and the
# shared ones; tests see everything.
INC_API		:= -Iapi
INC_COMMON	:= $(INC_API) -Ismtpd/common -Ismtpd/conf
INC_TABLE	:= $(INC_API) -Ismtpd/common -Ismtpd/table
# the embedded table backends link into helpers too: api/ and their own
# folder only (smtpd/table/table_backends.h)
TABLE_BACKENDS	:= $(addprefix smtpd/table/table_,$(addsuffix .c, \
		   static file db db_verify getpwnam match))
INC_BACKEND	:= $(INC_API) -Ismtpd/table
INC_SMTPD	:= $(INC_API) -Ismtpd/common -Ismtpd/table -Ismtpd/conf \
		   -Ismtpd/queue
INC_REGRESS	:= $(INC_SMTPD) -Ismtpd/scheduler -Ismtpd/dispatcher -Ismtpd/lookup \
		   -Iregress/lib
# Backends hosted two ways (linked into smtpd, wrapped by libexec/NAME
# through OBJS_NAME in libexec/NAME.mk) see only api/ as well.
API_BACKENDS	:= smtpd/queue/queue_ram.c smtpd/queue/queue_fs.c \
		   smtpd/queue/queue_fs_journal.c smtpd/queue/queue_fs_walk.c \
		   smtpd/queue/queue_null.c \
		   smtpd/scheduler/scheduler_ramqueue.c
layer_inc	= $(strip \
		  $(if $(filter api/% libexec/% $(API_BACKENDS),$(1)),$(INC_API), \
		  $(if $(filter smtpd/common/%,$(1)),$(INC_COMMON), \
		  $(if $(filter $(TABLE_BACKENDS),$(1)),$(INC_BACKEND), \
		  $(if $(filter regress/drivers/%,$(1)),$(INC_API) -Iapi/compat, \
		  $(if $(filter smtpd/table/%,$(1)),$(INC_TABLE), \
		  $(if $(filter smtpd/%,$(1)),$(INC_SMTPD) -I$(dir $(1)), \
		  $(INC_REGRESS))))))))
ALLLDFLAGS	 = $(SANFLAGS) $(LDFLAGS)

# libsmtpd-api: framing, wire encoding, helper glue
API_SRCS	:= $(sort $(wildcard api/*.c))
API_LIB		:= $(O)/libsmtpd-api.a

# smtpd: one folder per process; smtpd/smtpd.c holds main()
SMTPD_DIRS	:= common table conf parent control lookup queue scheduler \
		   dispatcher ca
CORE_SRCS	:= $(sort $(foreach d,$(SMTPD_DIRS),$(wildcard smtpd/$(d)/*.c)))
CORE_LIB	:= $(O)/libsmtpd-core.a
SMTPD		:= $(O)/smtpd
CTL_SRCS	:= $(sort $(wildcard smtpd/ctl/*.c))
SMTPCTL		:= $(O)/smtpctl
# names smtpctl answers to, as symlinks beside it (and in SBINDIR)
CTL_NAMES	:= makemap sendmail send-mail mailq newaliases
CTL_LINKS	:= $(addprefix $(O)/,$(CTL_NAMES))

# libexec/NAME.c or libexec/NAME/*.c is the helper NAME; it may set
# LIBS_NAME (libraries) and OBJS_NAME (backend objects) in libexec/NAME.mk
LIBEXEC_ONE	:= $(basename $(notdir $(wildcard libexec/*.c)))
LIBEXEC_DIRS	:= $(notdir $(patsubst %/,%,$(dir $(wildcard libexec/*/*.c))))
LIBEXEC_NAMES	:= $(sort $(LIBEXEC_ONE) $(LIBEXEC_DIRS))
LIBEXEC_BINS	:= $(addprefix $(O)/libexec/,$(LIBEXEC_NAMES))
-include $(wildcard libexec/*.mk)

# regress/unit/NAME_test.c links the core and api libraries
UNIT_SRCS	:= $(sort $(wildcard regress/unit/*_test.c))
UNIT_BINS	:= $(patsubst regress/unit/%.c,$(O)/regress/unit/%,$(UNIT_SRCS))
UNIT_LIB_SRCS	:= $(sort $(wildcard regress/lib/*.c))
# regress/drivers/NAME.c: helpers written as outside drivers are, on api/
# only (and api/compat/, the extras glue's other header names)
DRIVER_SRCS	:= $(sort $(wildcard regress/drivers/*.c))
DRIVER_BINS	:= $(patsubst regress/drivers/%.c,$(O)/regress/drivers/%,$(DRIVER_SRCS))
FUZZ_SRCS	:= $(sort $(wildcard regress/fuzz/*_fuzz.c))
FUZZ_BINS	:= $(patsubst regress/fuzz/%.c,$(O)/regress/fuzz/%,$(FUZZ_SRCS))

LIBS		:= $(PKG_LIBS) -lssl -lcrypto -ldb -lcrypt

.PHONY: all deps test check run fuzz install clean
.SECONDARY:
all: $(API_LIB) $(SMTPD) $(SMTPCTL) $(CTL_LINKS) $(LIBEXEC_BINS) $(UNIT_BINS)

V		?= 0
ifeq ($(V),0)
Q		:= @
else
Q		:=
endif

# before the first compile: every package the build needs is there, or
# deps.sh names the missing ones and the command that installs them
DEPS_OK		:= $(O)/.deps-ok
$(DEPS_OK):
	@sh scripts/deps.sh check "$(CC)"
	@mkdir -p $(dir $@) && touch $@

$(O)/o/%.o: %.c | $(DEPS_OK)
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC      $<")
	$(Q)$(CC) $(ALLCFLAGS) -c -o $@ $<

$(API_LIB): $(patsubst %.c,$(O)/o/%.o,$(API_SRCS))
	@rm -f $@
	$(Q)$(AR) rcs $@ $^

$(CORE_LIB): $(patsubst %.c,$(O)/o/%.o,$(CORE_SRCS))
	@rm -f $@
	$(Q)$(AR) rcs $@ $^

$(SMTPD): $(O)/o/smtpd/smtpd.o $(CORE_LIB) $(API_LIB)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(ALLLDFLAGS) -o $@ $^ $(LIBS)

$(SMTPCTL): $(patsubst %.c,$(O)/o/%.o,$(CTL_SRCS)) $(CORE_LIB) $(API_LIB)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(ALLLDFLAGS) -o $@ $^ $(LIBS)

$(CTL_LINKS): $(SMTPCTL)
	$(Q)ln -sf smtpctl $@

.SECONDEXPANSION:
# a function: a '%' written in the rule would be replaced by the stem
libexec_objs	 = $(patsubst %.c,$(O)/o/%.o,$(wildcard libexec/$(1).c libexec/$(1)/*.c))
$(LIBEXEC_BINS): $(O)/libexec/%: $$(call libexec_objs,$$*) $$(OBJS_$$*) $(API_LIB)
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(ALLLDFLAGS) -o $@ $^ $(LIBS_$*) $(LIBS)

$(O)/regress/unit/%: $(O)/o/regress/unit/%.o $(patsubst %.c,$(O)/o/%.o,$(UNIT_LIB_SRCS)) $(CORE_LIB) $(API_LIB)
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(ALLLDFLAGS) -o $@ $^ $(LIBS)

all: $(DRIVER_BINS)
$(O)/regress/drivers/%: $(O)/o/regress/drivers/%.o $(API_LIB)
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(ALLLDFLAGS) -o $@ $^ $(LIBS)

# regress/smtp/NAME.c: programs the SMTP server tests drive (hosts of
# smtpd/dispatcher/smtp.h), on the core and api libraries
SMTPT_SRCS	:= $(sort $(wildcard regress/smtp/*.c))
SMTPT_BINS	:= $(patsubst regress/smtp/%.c,$(O)/regress/smtp/%,$(SMTPT_SRCS))
all: $(SMTPT_BINS)
$(O)/regress/smtp/%: $(O)/o/regress/smtp/%.o $(CORE_LIB) $(API_LIB)
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(ALLLDFLAGS) -o $@ $^ $(LIBS)

# regress/dns/NAME.c: programs the DNS tests drive (the lookup process's
# resolver, smtpd/lookup/lookup_dns.h), on the core and api libraries
DNST_BINS	:= $(patsubst regress/dns/%.c,$(O)/regress/dns/%,$(sort $(wildcard regress/dns/*.c)))
all: $(DNST_BINS)
$(O)/regress/dns/%: $(O)/o/regress/dns/%.o $(CORE_LIB) $(API_LIB)
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(ALLLDFLAGS) -o $@ $^ $(LIBS)
# bench/NAME.c: the benchmark's load generator and disk probe, built
# with everything (both compilers check them); make bench runs them
# (bench/bench.py; never part of make test)
BENCH_SRCS	:= $(sort $(wildcard bench/*.c))
BENCH_BINS	:= $(patsubst bench/%.c,$(O)/bench/%,$(BENCH_SRCS))
all: $(BENCH_BINS)
$(O)/bench/%: $(O)/o/bench/%.o
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(ALLLDFLAGS) -o $@ $^ $(PKG_LIBS) -lpthread
.PHONY: bench bench-tables
bench: deps
	@$(MAKE) --no-print-directory all
	python3 bench/bench.py --build $(O) $(BENCH_ARGS)
# bench/tables.c drives the table layer itself: the core libraries too;
# make bench-tables: look-ups per second per driver (bench/tables.py)
$(O)/bench/tables: $(O)/o/bench/tables.o $(CORE_LIB) $(API_LIB)
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(ALLLDFLAGS) -o $@ $^ $(LIBS)
bench-tables: deps
	@$(MAKE) --no-print-directory all
	python3 bench/tables.py --build $(O) $(BENCH_ARGS)

# fuzz targets: clang only, built with their own objects
FUZZ_O		:= $(O)/fuzz
FUZZFLAGS	:= -fsanitize=fuzzer,address,undefined -fno-omit-frame-pointer
$(FUZZ_O)/.deps-ok:
	@sh scripts/deps.sh check clang
	@mkdir -p $(dir $@) && touch $@
$(FUZZ_O)/%.o: %.c | $(FUZZ_O)/.deps-ok
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  FUZZCC  $<")
	$(Q)clang -std=c11 -O1 -g $(WARNFLAGS) $(PKG_CFLAGS) \
	    $(call layer_inc,$<) $(CPPFLAGS) \
	    -fsanitize=fuzzer-no-link,address,undefined -MMD -MP -c -o $@ $<
$(FUZZ_O)/libsmtpd-core.a: $(patsubst %.c,$(FUZZ_O)/%.o,$(CORE_SRCS))
	@rm -f $@
	$(Q)$(AR) rcs $@ $^
$(FUZZ_O)/libsmtpd-api.a: $(patsubst %.c,$(FUZZ_O)/%.o,$(API_SRCS))
	@rm -f $@
	$(Q)$(AR) rcs $@ $^
$(O)/regress/fuzz/%: $(FUZZ_O)/regress/fuzz/%.o $(FUZZ_O)/libsmtpd-core.a $(FUZZ_O)/libsmtpd-api.a
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  LD      $@")
	$(Q)clang $(FUZZFLAGS) -o $@ $^ $(LIBS)
fuzz: $(FUZZ_BINS)

deps:
	@sh scripts/deps.sh

test: deps
	@$(MAKE) --no-print-directory all
	@python3 regress/run.py --build $(O)

check: all
	@python3 regress/run.py --build $(O) --unit-only

# make run: as root, the accounts first (scripts/users.sh creates them
# or names the commands to run); as an ordinary user, no privilege
# separation and no account needed
RUNLOCAL	?= run
run: deps
	@$(MAKE) --no-print-directory all
	@if [ "$$(id -u)" = 0 ]; then \
	    sh scripts/users.sh $(SMTPD_USER) $(SMTPQ_USER) $(CHROOTDIR); fi
	@mkdir -p $(RUNLOCAL)
	exec $(SMTPD) -d -r $(abspath $(RUNLOCAL)) \
	    -o libexec=$(abspath $(O))/libexec

install: all
	install -d $(DESTDIR)$(SBINDIR) $(DESTDIR)$(LIBEXECDIR) \
	    $(DESTDIR)$(MANDIR)/man5 $(DESTDIR)$(MANDIR)/man8
	install -m 0755 $(SMTPD) $(SMTPCTL) $(DESTDIR)$(SBINDIR)
	for n in $(CTL_NAMES); do ln -sf smtpctl $(DESTDIR)$(SBINDIR)/$$n; done
	for f in $(LIBEXEC_BINS); do install -m 0755 $$f $(DESTDIR)$(LIBEXECDIR); done
	for f in $(wildcard man/*.5); do install -m 0644 $$f $(DESTDIR)$(MANDIR)/man5; done
	for f in $(wildcard man/*.8); do install -m 0644 $$f $(DESTDIR)$(MANDIR)/man8; done
	@if [ -z "$(DESTDIR)" ] && [ "$$(id -u)" = 0 ]; then \
	    sh scripts/users.sh $(SMTPD_USER) $(SMTPQ_USER) $(CHROOTDIR); fi

clean:
	rm -rf obj obj-san obj-clang run

-include $(shell find $(O) -type f -name '*.d' 2>/dev/null)
