# Edge cases on top of gen_responses.R output, for tests/integration/r_agreement.sh.
# Usage: Rscript gen_edge.R SURVEY.json IN.csv OUT.csv SEED [small=MIN] [extremes]
#   small=MIN  each unit keeps a random subset of its rows, between MIN and all
#   extremes   in every unit, a few items become 0 % or 100 % satisfied (every
#              answer redrawn among the scale's unsatisfied or satisfied values),
#              often a whole leaf group too, and one item unanswered (only in a
#              group that keeps other items, so every group keeps an index)
# Under a complex design 0 % and 100 % take docs/methodology.md section 6's Kish
# effective-n fallback. Writes the same CSV shape as gen_responses.R.
suppressMessages(library(jsonlite))
a <- commandArgs(TRUE)
if (length(a) < 4) stop("usage: gen_edge.R SURVEY.json IN.csv OUT.csv SEED [small=MIN] [extremes]")
sv <- fromJSON(a[1], simplifyVector = FALSE)
set.seed(as.integer(a[4]))
opts <- a[-(1:4)]
small <- NA; extremes <- FALSE
for (o in opts) {
  if (startsWith(o, "small=")) small <- as.integer(sub("small=", "", o))
  else if (o == "extremes") extremes <- TRUE
  else stop("unknown option ", o)
}

hdr <- names(read.csv(a[2], nrows = 1, check.names = FALSE))
chr <- intersect(c("id", "unit", "submitted_at", "channel", "stratum", "psu"), hdr)
d <- read.csv(a[2], stringsAsFactors = FALSE, na.strings = "", check.names = FALSE,
              colClasses = setNames(rep("character", length(chr)), chr))

leaves <- list()                       # leaf groups: list of item lists
items <- list()                        # satisfaction items
walk <- function(g) {
  if (length(g$items) > 0) leaves[[length(leaves) + 1]] <<- g$items
  for (i in g$items) items[[length(items) + 1]] <<- i
  for (c in g$groups) walk(c)
}
walk(sv$overall)
scale_of <- function(i) sv$scales[[i$scale]]
redraw <- function(v, i, satisfied) {
  s <- scale_of(i); vals <- unlist(s$values)
  pool <- if (satisfied) vals[vals >= s$satisfied_min] else vals[vals < s$satisfied_min]
  ans <- !is.na(v)
  v[ans] <- pool[sample.int(length(pool), sum(ans), TRUE)]
  v
}

units <- unique(d$unit)
keep <- rep(TRUE, nrow(d))
for (u in units) {
  r <- which(d$unit == u)
  if (!is.na(small) && length(r) > small) {
    m <- sample(small:length(r), 1)
    keep[r] <- seq_along(r) %in% sample.int(length(r), m)
  }
  if (!extremes) next
  dir <- runif(1) < 0.5                # pick[1] satisfied or not, pick[2] the other way
  pick <- sample.int(length(items), min(2, length(items)))
  for (k in seq_along(pick)) {
    i <- items[[pick[k]]]
    d[r, i$code] <- redraw(d[r, i$code], i, if (k == 1) dir else !dir)
  }
  for (i in sv$expectations)           # some expectation items at 0 % or 100 %
    if (runif(1) < 0.3) d[r, i$code] <- redraw(d[r, i$code], i, runif(1) < 0.5)
  if (runif(1) < 0.5) {                # a whole leaf group at 0 % or 100 %
    leaf <- leaves[[sample.int(length(leaves), 1)]]
    dir <- runif(1) < 0.5
    for (i in leaf) d[r, i$code] <- redraw(d[r, i$code], i, dir)
  }
  big <- Filter(function(l) length(l) >= 2, leaves)
  if (length(big) > 0) {               # blank one item if its siblings keep an answer
    l <- big[[sample.int(length(big), 1)]]
    j <- sample.int(length(l), 1)
    rest <- sapply(l[-j], function(i) i$code)
    if (any(!is.na(d[r[keep[r]], rest]))) d[r, l[[j]]$code] <- NA
  }
}
write.csv(d[keep, , drop = FALSE], a[3], row.names = FALSE, na = "", quote = TRUE)
