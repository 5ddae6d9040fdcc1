/*
 * table_service.h -- the table services, one bit each, as the table
 * protocol carries them (libexec-protocols.md 4.5).  The one definition,
 * included by helpers (smtpd-api.h) and by the daemon (table.h) alike;
 * it must stay free of anything else (no log macros).
 */
#ifndef API_TABLE_SERVICE_H
#define API_TABLE_SERVICE_H

enum table_service {
	K_NONE = 0x000,
	K_ALIAS = 0x001,	/* lookup: comma-separated expansion list */
	K_DOMAIN = 0x002,	/* check: domain name */
	K_CREDENTIALS = 0x004,	/* lookup: username:password */
	K_NETADDR = 0x008,	/* check: address or CIDR */
	K_USERINFO = 0x010,	/* lookup: uid:gid:homedir */
	K_SOURCE = 0x020,	/* fetch: an IP address literal */
	K_MAILADDR = 0x040,	/* check: user@domain, user, @domain */
	K_ADDRNAME = 0x080,	/* lookup: hostname for HELO */
	K_MAILADDRMAP = 0x100,	/* lookup: comma-separated mailaddr list */
	K_RELAYHOST = 0x200,	/* lookup/fetch: relay URL (6.x daemon) */
	K_STRING = 0x400,	/* check: the string (6.x daemon) */
	K_REGEX = 0x800,	/* check: subject matched by a regex (6.x) */
	K_ANY = 0xfff,
};

/* table_service_name - "alias", "domain", ... or "unknown" */
const char		*table_service_name(enum table_service);
/* table_service_from_name - the bit of a service name, K_NONE if none */
enum table_service	 table_service_from_name(const char *);

#endif
