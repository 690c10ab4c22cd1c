/*
 * admin_users.h: the admin page of people's accounts (admin_users.c),
 * GET and POST /admin/users behind an admin's session.
 */
#ifndef SIPAS_ADMIN_USERS_H
#define SIPAS_ADMIN_USERS_H

#include "daemon/request.h"

/*
 * GET: the accounts within the admin's scope and the forms to add one,
 * disable one or set its password. POST (action=add|disable|passwd, csrf=
 * the session's token, from this site's page): the change, audited, then
 * 303 back to the list.
 */
void admin_users_handle(struct request *);

#endif
