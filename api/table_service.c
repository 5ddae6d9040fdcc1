/*
 * table_service.c -- names of the table services, for helpers and the
 * daemon alike (one list).  Pure functions.
 */
#include <stddef.h>
#include <string.h>

#include "table_service.h"

static const struct {
	enum table_service	 service;
	const char		*name;
} table_service_names[] = {
	{ K_ALIAS,	 "alias" },
	{ K_DOMAIN,	 "domain" },
	{ K_CREDENTIALS, "credentials" },
	{ K_NETADDR,	 "netaddr" },
	{ K_USERINFO,	 "userinfo" },
	{ K_SOURCE,	 "source" },
	{ K_MAILADDR,	 "mailaddr" },
	{ K_ADDRNAME,	 "addrname" },
	{ K_MAILADDRMAP, "mailaddrmap" },
	{ K_RELAYHOST,	 "relayhost" },
	{ K_STRING,	 "string" },
	{ K_REGEX,	 "regex" },
};

#define TABLE_NSERVICES \
	(sizeof table_service_names / sizeof table_service_names[0])

const char *
table_service_name(enum table_service service)
{
	size_t	i;

	for (i = 0; i < TABLE_NSERVICES; i++)
		if (table_service_names[i].service == service)
			return table_service_names[i].name;
	return "unknown";
}

enum table_service
table_service_from_name(const char *name)
{
	size_t	i;

	for (i = 0; i < TABLE_NSERVICES; i++)
		if (strcmp(table_service_names[i].name, name) == 0)
			return table_service_names[i].service;
	return K_NONE;
}
