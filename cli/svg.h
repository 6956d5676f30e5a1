/* svg.h — the SVG chart writers now live in report/ (report/svg.h); this
 * name stays for the commands that include it. */
#ifndef FOCAL_CLI_SVG_H
#define FOCAL_CLI_SVG_H

#include "report/svg.h"

#endif
