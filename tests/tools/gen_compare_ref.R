# Reference values for tests/unit/test_intervals.c and test_compare.c, from R.
# Usage: Rscript tests/tools/gen_compare_ref.R tests/data
# Writes intervals-ref.json (Wilson, t quantiles, change, trend) and
# compare-ref.json (Cronbach's alpha and corrected item-total correlations of
# small-2017.csv, per unit).
suppressMessages(library(jsonlite))
dir <- commandArgs(TRUE)[1]
f <- function(x) unname(x)

wilson <- list()
for (a in list(c(0, 10, .95), c(10, 10, .95), c(7, 10, .95), c(1, 3, .9), c(143, 150, .95),
               c(2, 1000, .99), c(12.5, 17.3, .95), c(17.3, 17.3, .95), c(0, 4.2, .8))) {
  ci <- prop.test(a[1], a[2], correct = FALSE, conf.level = a[3])$conf.int
  wilson[[length(wilson) + 1]] <- list(x = a[1], n = a[2], level = a[3], lo = ci[1], hi = ci[2])
}
tq <- list()
for (df in c(1, 2, 4, 5, 10, 30, 149, 1000, 1e6))
  for (lv in c(.9, .95, .99)) tq[[length(tq) + 1]] <- list(df = df, level = lv, q = qt(1 - (1 - lv) / 2, df))
for (lv in c(.9, .95, .99)) tq[[length(tq) + 1]] <- list(df = "Inf", level = lv, q = qnorm(1 - (1 - lv) / 2))

change <- list()
for (a in list(c(80, 1.2, 84, 1.5), c(80, 2, 81, 2.5), c(90, 0.5, 88.5, 0.6))) {
  d <- a[3] - a[1]; se <- sqrt(a[2]^2 + a[4]^2); p <- 2 * pnorm(-abs(d / se))
  change[[length(change) + 1]] <- list(v1 = a[1], se1 = a[2], v2 = a[3], se2 = a[4], diff = d, se = se, p = p)
}
x <- 1:6; y <- c(80.1, 81.5, 81.2, 83.9, 84.4, 86.0); se <- c(1.5, 1.2, 2.0, 1.1, 0.9, 1.4)
m <- summary(lm(y ~ x, weights = 1 / se^2))
trend <- list(x = x, y = y, se = se, slope = f(m$coefficients[2, 1]),
              slope_se = f(m$coefficients[2, 2] / m$sigma))
writeLines(toJSON(list(wilson = wilson, t = tq, change = change, trend = trend), auto_unbox = TRUE, digits = NA),
           file.path(dir, "intervals-ref.json"))

sv <- fromJSON("surveys/sipas-2017.json", simplifyVector = FALSE)
d <- read.csv(file.path(dir, "small-2017.csv"), stringsAsFactors = FALSE, na.strings = "", check.names = FALSE)
items <- unlist(lapply(sv$overall$groups, function(g) sapply(g$items, function(i) i$code)))
units <- list()
for (u in sort(unique(d$unit))) {
  r <- d[d$unit == u, ]
  alpha <- list()
  for (g in sv$overall$groups) {
    cols <- sapply(g$items, function(i) i$code)
    X <- as.matrix(r[, cols]); X <- X[complete.cases(X), , drop = FALSE]
    k <- ncol(X)
    a <- k / (k - 1) * (1 - sum(apply(X, 2, var)) / var(rowSums(X)))
    alpha[[length(alpha) + 1]] <- list(code = g$code, alpha = a, n = nrow(X))
  }
  imp <- list()
  M <- as.matrix(r[, items])
  for (j in seq_along(items)) {
    others <- M[, -j, drop = FALSE]
    cnt <- rowSums(!is.na(others)); s <- rowSums(others, na.rm = TRUE)
    ok <- !is.na(M[, j]) & cnt >= 1
    imp[[j]] <- list(code = items[j], importance = cor(M[ok, j], s[ok] / cnt[ok]))
  }
  units[[length(units) + 1]] <- list(unit = u, alpha = alpha, importance = imp)
}
writeLines(toJSON(list(units = units), auto_unbox = TRUE, digits = NA), file.path(dir, "compare-ref.json"))
