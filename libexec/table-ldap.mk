LIBS_table-ldap := $(shell pkg-config --libs ldap 2>/dev/null || echo -lldap -llber)
