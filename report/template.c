/*
 * template.c: the sheet to fill for an upload (include/sipas/template.h).
 *
 * The CSV is the header row alone. The XLSX has three sheets: "Phiếu" (the
 * header, frozen, each item's text and scale as a comment; drop-down lists on
 * the first TEMPLATE_ROWS data rows: the scale's values on each item's
 * column, the units on the unit column; submitted_at formatted dd/mm/yyyy
 * and limited to dates), "Hướng dẫn" (what each column holds) and "Đơn vị"
 * (the units the list offers, with their names).
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <xlsxwriter.h>

#include "sipas/csvout.h"
#include "sipas/survey.h"
#include "sipas/template.h"
#include "sipas/util.h"

/* The columns before the items. */
static const struct {
	const char *code;
	const char *help_vi;
} template_fixed[] = {
	{ "id", "Mã phiếu, duy nhất trong đợt khảo sát (ví dụ số thứ tự ghi "
	    "trên phiếu giấy). Có mã thì gửi lại tệp không lưu trùng." },
	{ "unit", "Mã đơn vị nơi người dân được phục vụ: chọn trong danh sách "
	    "(trang \"Đơn vị\")." },
	{ "submitted_at", "Ngày trả lời, dạng dd/mm/yyyy (ví dụ 05/03/2025)." },
};
#define TEMPLATE_NFIXED (sizeof template_fixed / sizeof template_fixed[0])
/* The longest literal list Excel takes in a validation. */
#define TEMPLATE_LIST_MAX 255

/* The header row. */
void
template_csv(struct csvout *out, const struct survey *s)
{
	size_t i;
	int j;

	for (i = 0; i < TEMPLATE_NFIXED; i++)
		csvout_field(out, template_fixed[i].code);
	for (j = 0; j < s->nitems; j++)
		csvout_field(out, s->items[j].code);
	csvout_row_end(out);
}

/* The CSV template: the header row. */
int
template_write_csv(FILE *f, const struct survey *s, char **cause)
{
	struct csvout out;
	int rc;

	csvout_init(&out, "\r\n");
	template_csv(&out, s);
	rc = csvout_write(&out, f);
	csvout_free(&out);
	if (rc != 0) {
		xasprintf(cause, "cannot write the template: %s",
		    strerror(errno));
		return -1;
	}
	return 0;
}

/* "1 = Rất không hài lòng; 2 = ..." for a scale (owned). */
static char *
template_scale_text(const struct scale *sc)
{
	char *text = xstrdup(""), *next;
	int i;

	for (i = 0; i < sc->nvalues; i++) {
		xasprintf(&next, "%s%s%d = %s", text, i > 0 ? "; " : "",
		    sc->values[i], sc->labels_vi != NULL &&
		    sc->labels_vi[i] != NULL ? sc->labels_vi[i] : "");
		free(text);
		text = next;
	}
	return text;
}

/* The drop-down of an item's column: its scale's values. */
static lxw_error
template_item_list(lxw_worksheet *ws, int col, const struct scale *sc)
{
	lxw_data_validation v;
	char **list, *msg;
	lxw_error err;
	int i;

	list = xcalloc((size_t)sc->nvalues + 1, sizeof *list);
	for (i = 0; i < sc->nvalues; i++)
		xasprintf(&list[i], "%d", sc->values[i]);
	xasprintf(&msg, "Chọn một giá trị của thang đo %s.", sc->name);
	memset(&v, 0, sizeof v);
	v.validate = LXW_VALIDATION_TYPE_LIST;
	v.value_list = list;
	v.error_title = (char *)"Giá trị không hợp lệ";
	v.error_message = msg;
	err = worksheet_data_validation_range(ws, 1, (lxw_col_t)col,
	    TEMPLATE_ROWS, (lxw_col_t)col, &v);
	for (i = 0; i < sc->nvalues; i++)
		free(list[i]);
	free(list);
	free(msg);
	return err;
}

/*
 * The unit column's check. A drop-down of the codes when they fit in the
 * 255 characters Excel allows a literal list; else a formula that refuses
 * any code not on the sheet "Đơn vị" (no drop-down: libxlsxwriter 1.1.4
 * leaks the text of a list that refers to cells).
 */
static lxw_error
template_unit_list(lxw_worksheet *ws, const struct template_unit *units,
    size_t n)
{
	lxw_data_validation v;
	char **list = NULL, *formula = NULL;
	size_t i, len = 0;
	lxw_error err;

	for (i = 0; i < n; i++)
		len += strlen(units[i].code) + 1;
	memset(&v, 0, sizeof v);
	v.error_title = (char *)"Đơn vị không hợp lệ";
	v.error_message = (char *)"Chọn mã đơn vị trong danh sách (trang "
	    "\"Đơn vị\").";
	if (len <= TEMPLATE_LIST_MAX) {
		list = xcalloc(n + 1, sizeof *list);
		for (i = 0; i < n; i++)
			list[i] = (char *)units[i].code;
		v.validate = LXW_VALIDATION_TYPE_LIST;
		v.value_list = list;
	} else {
		xasprintf(&formula, "=COUNTIF('Đơn vị'!$A$2:$A$%zu,B2)>0",
		    n + 1);
		v.validate = LXW_VALIDATION_TYPE_CUSTOM_FORMULA;
		v.value_formula = formula;
	}
	err = worksheet_data_validation_range(ws, 1, 1, TEMPLATE_ROWS, 1, &v);
	free(list);
	free(formula);
	return err;
}

/* The sheet "Phiếu": the header and the lists. */
static int
template_sheet_data(lxw_workbook *wb, const struct survey *s,
    const struct template_unit *units, size_t nunits, char **cause)
{
	lxw_worksheet *ws = workbook_add_worksheet(wb, "Phiếu");
	lxw_format *head = workbook_add_format(wb), *date;
	lxw_data_validation v;
	lxw_error err = LXW_NO_ERROR;
	char *comment, *scale;
	size_t i;
	int j, col;

	if (ws == NULL) {
		xasprintf(cause, "cannot add the sheet");
		return -1;
	}
	format_set_bold(head);
	format_set_bg_color(head, 0xDDE6F0);
	format_set_border(head, LXW_BORDER_THIN);
	date = workbook_add_format(wb);
	format_set_num_format(date, "dd/mm/yyyy");
	for (i = 0; i < TEMPLATE_NFIXED; i++) {
		worksheet_write_string(ws, 0, (lxw_col_t)i,
		    template_fixed[i].code, head);
		worksheet_write_comment(ws, 0, (lxw_col_t)i,
		    template_fixed[i].help_vi);
	}
	worksheet_set_column(ws, 0, 1, 14, NULL);
	worksheet_set_column(ws, 2, 2, 14, date);
	for (j = 0; j < s->nitems; j++) {
		col = (int)TEMPLATE_NFIXED + j;
		worksheet_write_string(ws, 0, (lxw_col_t)col, s->items[j].code,
		    head);
		scale = template_scale_text(s->items[j].scale);
		xasprintf(&comment, "%s\n%s", s->items[j].text_vi != NULL ?
		    s->items[j].text_vi : s->items[j].code, scale);
		worksheet_write_comment(ws, 0, (lxw_col_t)col, comment);
		free(comment);
		free(scale);
		if (err == LXW_NO_ERROR)
			err = template_item_list(ws, col, s->items[j].scale);
	}
	worksheet_freeze_panes(ws, 1, 0);

	/* submitted_at: a date from 2000 on. */
	memset(&v, 0, sizeof v);
	v.validate = LXW_VALIDATION_TYPE_DATE;
	v.criteria = LXW_VALIDATION_CRITERIA_BETWEEN;
	v.minimum_datetime = (lxw_datetime){ 2000, 1, 1, 0, 0, 0 };
	v.maximum_datetime = (lxw_datetime){ 2099, 12, 31, 0, 0, 0 };
	v.error_title = (char *)"Ngày không hợp lệ";
	v.error_message = (char *)"Nhập ngày dạng dd/mm/yyyy.";
	if (err == LXW_NO_ERROR)
		err = worksheet_data_validation_range(ws, 1, 2, TEMPLATE_ROWS,
		    2, &v);

	/* unit: the codes of the sheet "Đơn vị". */
	if (nunits > 0 && err == LXW_NO_ERROR)
		err = template_unit_list(ws, units, nunits);
	if (err != LXW_NO_ERROR) {
		xasprintf(cause, "cannot add the lists: %s", lxw_strerror(err));
		return -1;
	}
	return 0;
}

/* The sheet "Hướng dẫn": what each column holds. */
static void
template_sheet_help(lxw_workbook *wb, const struct survey *s)
{
	lxw_worksheet *ws = workbook_add_worksheet(wb, "Hướng dẫn");
	lxw_format *head = workbook_add_format(wb), *wrap;
	char *scale;
	size_t i;
	int j, row = 0;

	format_set_bold(head);
	wrap = workbook_add_format(wb);
	format_set_text_wrap(wrap);
	format_set_align(wrap, LXW_ALIGN_VERTICAL_TOP);
	worksheet_set_column(ws, 0, 0, 14, wrap);
	worksheet_set_column(ws, 1, 1, 60, wrap);
	worksheet_set_column(ws, 2, 2, 50, wrap);
	worksheet_write_string(ws, row, 0, s->title_vi != NULL ? s->title_vi :
	    s->code, head);
	row += 2;
	worksheet_write_string(ws, row, 0, "Cột", head);
	worksheet_write_string(ws, row, 1, "Nội dung", head);
	worksheet_write_string(ws, row, 2, "Giá trị", head);
	row++;
	for (i = 0; i < TEMPLATE_NFIXED; i++, row++) {
		worksheet_write_string(ws, row, 0, template_fixed[i].code, NULL);
		worksheet_write_string(ws, row, 1, template_fixed[i].help_vi,
		    NULL);
	}
	for (j = 0; j < s->nitems; j++, row++) {
		worksheet_write_string(ws, row, 0, s->items[j].code, NULL);
		worksheet_write_string(ws, row, 1, s->items[j].text_vi != NULL ?
		    s->items[j].text_vi : "", NULL);
		scale = template_scale_text(s->items[j].scale);
		worksheet_write_string(ws, row, 2, scale, NULL);
		free(scale);
	}
	row++;
	worksheet_write_string(ws, row, 0, "Lưu ý", head);
	worksheet_write_string(ws, row, 1, "Mỗi dòng của trang \"Phiếu\" là "
	    "một phiếu. Ô để trống là câu không trả lời. Không đổi dòng tiêu "
	    "đề. Gửi tệp tại trang Tải lên (/uploads).", NULL);
}

/* The sheet "Đơn vị": the units of the list. */
static void
template_sheet_units(lxw_workbook *wb, const struct template_unit *units,
    size_t n)
{
	lxw_worksheet *ws = workbook_add_worksheet(wb, "Đơn vị");
	lxw_format *head = workbook_add_format(wb);
	size_t i;

	format_set_bold(head);
	worksheet_set_column(ws, 0, 0, 16, NULL);
	worksheet_set_column(ws, 1, 1, 50, NULL);
	worksheet_write_string(ws, 0, 0, "unit", head);
	worksheet_write_string(ws, 0, 1, "Tên đơn vị", head);
	for (i = 0; i < n; i++) {
		worksheet_write_string(ws, (lxw_row_t)(i + 1), 0, units[i].code,
		    NULL);
		if (units[i].name != NULL)
			worksheet_write_string(ws, (lxw_row_t)(i + 1), 1,
			    units[i].name, NULL);
	}
}

/* The XLSX template. */
int
template_write_xlsx(const char *path, const struct survey *s,
    const struct template_unit *units, size_t n, char **cause)
{
	lxw_workbook *wb;
	lxw_doc_properties props;
	lxw_error err;
	FILE *probe;

	/* libxlsxwriter tells of a file it cannot create only at close. */
	if ((probe = fopen(path, "w")) == NULL) {
		xasprintf(cause, "%s: %s", path, strerror(errno));
		return -1;
	}
	fclose(probe);
	if ((wb = workbook_new(path)) == NULL) {
		xasprintf(cause, "%s: cannot create the workbook", path);
		return -1;
	}
	memset(&props, 0, sizeof props);
	props.title = s->title_vi;
	props.subject = s->code;
	props.author = "sipas";
	workbook_set_properties(wb, &props);
	if (template_sheet_data(wb, s, units, n, cause) != 0) {
		workbook_close(wb);
		return -1;
	}
	template_sheet_help(wb, s);
	template_sheet_units(wb, units, n);
	if ((err = workbook_close(wb)) != LXW_NO_ERROR) {
		xasprintf(cause, "%s: %s", path, lxw_strerror(err));
		return -1;
	}
	return 0;
}
