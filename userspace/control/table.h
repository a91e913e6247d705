/* SPDX-License-Identifier: Apache-2.0 */
/*
 * table: the one table printer of the CLI (status, incidents, knowledge, doctor). A table has
 * a header line and one line per row; each column is as wide as its widest cell (the header
 * included), columns are two blanks apart, numeric columns are aligned right, and the last
 * column is not padded (no line ends in padding).
 */
#ifndef VIGIL_TABLE_H
#define VIGIL_TABLE_H

#include <stddef.h>
#include <stdio.h>

#define VIGIL_TABLE_CELL 128 /* bytes of a cell, NUL included; longer text is cut */
#define VIGIL_TABLE_MAX_COLS 8

struct vigil_table {
	const char *const *head;
	unsigned int ncols;
	unsigned int right; /* bit c set: column c holds numbers, aligned right */
	size_t rows;
	char (*cell)[VIGIL_TABLE_CELL]; /* rows * ncols */
};

/* A table of rows rows under the ncols column names head (which must outlive it), its cells
 * empty. Returns 0, -EINVAL for more than VIGIL_TABLE_MAX_COLS columns, or -ENOMEM. */
int vigil_table_init(struct vigil_table *t, const char *const *head, unsigned int ncols,
		     unsigned int right, size_t rows);
/* The cell at row, col: VIGIL_TABLE_CELL bytes to write its text into. */
char *vigil_table_cell(struct vigil_table *t, size_t row, unsigned int col);
/* Print the header and every row, each cell terminal-safe (core/text.h), then free the
 * cells. */
void vigil_table_print(struct vigil_table *t, FILE *out);
/* Free the cells of a table that is not printed; accepts a table whose init failed. */
void vigil_table_free(struct vigil_table *t);

/*
 * One line of a table whose widths are fixed beforehand, for rows printed as they come (doctor
 * prints each check as it finishes): text[c] padded to width[c] (right-aligned where bit c of
 * right is set), gap blanks between columns, the last column not padded when aligned left.
 * vigil_table_print() prints every line through it.
 */
void vigil_table_line(FILE *out, const size_t *width, unsigned int ncols, unsigned int right,
		      unsigned int gap, const char *const *text);

#endif /* VIGIL_TABLE_H */
