/*
 * sql_subtree.h: the unit subtree every read of sipasd starts from
 * (daemon/store/store.c, daemon/store/store_agg.c): "sub" holds unit U and everything
 * below it, each with the direct child of U it lies under (child, NULL for
 * U) and its ancestor-or-self of level L (at_level, or NULL). U and L are
 * the parameter references, e.g. SQL_SUBTREE("$2", "$3").
 */
#ifndef SIPAS_SQL_SUBTREE_H
#define SIPAS_SQL_SUBTREE_H

#define SQL_SUBTREE(U, L) \
    "WITH RECURSIVE sub (code, child, at_level) AS (" \
    " SELECT code, NULL::text, CASE WHEN level = " L " THEN code END" \
    " FROM units WHERE code = " U \
    " UNION ALL" \
    " SELECT u.code, coalesce(sub.child, u.code)," \
    "  coalesce(sub.at_level, CASE WHEN u.level = " L " THEN u.code END)" \
    " FROM units u JOIN sub ON u.parent = sub.code)"

#endif
