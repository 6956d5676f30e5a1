/* csvloc.h — pointing at one value of a CSV file read with focal_csv_read, for
 * error messages about values that parse as numbers but are not valid where
 * they are (a class index of 1.5, a target of 2, a probability of -0.1). */
#ifndef FOCAL_CLI_CSVLOC_H
#define FOCAL_CLI_CSVLOC_H

#include <stddef.h>

#include "args.h"

/* Prints "focal: PATH:LINE:COL: 'TEXT' <message>" for the value at data row
 * `row` and field `col` (both 0-based, as in struct focal_csv_matrix) of the
 * CSV file at path, TEXT being the field as written (focal_csv_locate); if
 * the file cannot be read again it falls back to "PATH: row R, column C:
 * 'VALUE' ...". */
void csvloc_error(const char *path, size_t row, size_t col, double value,
                  const char *fmt, ...) CLI_PRINTF(5, 6);

#endif
