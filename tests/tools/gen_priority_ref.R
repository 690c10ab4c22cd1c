# Reference values for tests/unit/test_priority.c, from R.
# Usage: Rscript tests/tools/gen_priority_ref.R tests/data
# Writes priority-ref.json:
# - "priorities": per fixture and unit, every satisfaction item's corrected
#   item-total correlation (the item against the mean of the respondent's
#   other satisfaction items), weighted by the sampling weights, with its 95 %
#   interval by Fisher's z on the Kish effective size (sum w)^2 / sum w^2;
#   without weights this is cor.test()$conf.int. Then the medians over the
#   items and the priority flag: lower limit of the importance above the
#   median importance and upper limit of the item index below the median index.
# - "holm": children's indices against their parent's value (two-sided t
#   p-values on each child's df) and changes between periods (normal
#   p-values), each family adjusted with p.adjust(method = "holm").
suppressMessages(library(jsonlite))
suppressMessages(library(survey))
dir <- commandArgs(TRUE)[1]
level <- 0.95
q <- qnorm(1 - (1 - level) / 2)

sv <- fromJSON("surveys/sipas-2017.json", simplifyVector = FALSE)
items <- unlist(lapply(sv$overall$groups, function(g) sapply(g$items, function(i) i$code)))

# The interval of an item index (percent), as docs/methodology.md defines it.
item_ci_high <- function(r, code, complex) {
  ok <- !is.na(r[[code]])
  y <- as.numeric(r[[code]][ok] >= 4)
  if (!complex)
    return(100 * prop.test(sum(y), length(y), correct = FALSE, conf.level = level)$conf.int[2])
  dd <- data.frame(y = y, w = r$weight[ok], st = r$stratum[ok], psu = r$psu[ok])
  des <- svydesign(ids = ~psu, strata = ~st, weights = ~w, data = dd, nest = TRUE)
  ci <- attr(svyciprop(~y, des, method = "logit", level = level), "ci")
  100 * unname(ci[2])
}

unit_priorities <- function(r, complex) {
  w <- if (complex) r$weight else rep(1, nrow(r))
  M <- as.matrix(r[, items])
  out <- list(); imp <- c(); hi <- c(); perf <- c()
  for (j in seq_along(items)) {
    others <- M[, -j, drop = FALSE]
    cnt <- rowSums(!is.na(others)); s <- rowSums(others, na.rm = TRUE)
    ok <- !is.na(M[, j]) & cnt >= 1
    x <- M[ok, j]; m <- s[ok] / cnt[ok]; wj <- w[ok]
    rho <- cov.wt(cbind(x, m), wt = wj / sum(wj), cor = TRUE)$cor[1, 2]
    neff <- sum(wj)^2 / sum(wj^2)
    ci <- tanh(atanh(rho) + c(-1, 1) * q / sqrt(neff - 3))
    if (!complex) {
      ct <- cor.test(x, m, conf.level = level)
      stopifnot(abs(ct$estimate - rho) < 1e-12, max(abs(ct$conf.int - ci)) < 1e-12)
    }
    p <- 100 * sum(w[!is.na(M[, j])] * (M[!is.na(M[, j]), j] >= 4)) / sum(w[!is.na(M[, j])])
    imp[j] <- rho; perf[j] <- p; hi[j] <- item_ci_high(r, items[j], complex)
    out[[j]] <- list(code = items[j], importance = rho, ci_low = ci[1], ci_high = ci[2],
                     n = length(x), neff = neff, performance = p, performance_ci_high = hi[j])
  }
  mi <- median(imp); mp <- median(perf)
  for (j in seq_along(items))
    out[[j]]$priority <- out[[j]]$ci_low > mi && out[[j]]$performance_ci_high < mp
  list(median_importance = mi, median_performance = mp, items = out)
}

fixtures <- list(
  list(name = "small-2017.csv", complex = FALSE),
  list(name = "fixtures/sipas2017-cluster.csv", complex = TRUE))
pri <- list()
for (f in fixtures) {
  d <- read.csv(file.path(dir, f$name), stringsAsFactors = FALSE, na.strings = "", check.names = FALSE)
  units <- list()
  for (u in sort(unique(d$unit)))
    units[[length(units) + 1]] <- c(list(unit = u), unit_priorities(d[d$unit == u, ], f$complex))
  pri[[length(pri) + 1]] <- list(file = f$name, complex = f$complex, units = units)
}

# A family of children against their parent's value, and one of changes.
kids <- data.frame(value = c(91.2, 84.0, 80.9, 78.1, 75.5, 69.3, 82.2),
                   se = c(2.1, 1.4, 3.9, 1.2, 2.6, 4.4, 0.7),
                   df = c(40, 120, 12, Inf, 33, 8, 299))
parent <- 80.4
tp <- ifelse(is.finite(kids$df), 2 * pt(-abs(kids$value - parent) / kids$se, kids$df),
             2 * pnorm(-abs(kids$value - parent) / kids$se))
chg <- data.frame(v1 = c(80, 80, 90, 71.5, 60.2), se1 = c(1.2, 2, 0.5, 1.8, 3.1),
                  v2 = c(84, 81, 88.5, 75.9, 60.9), se2 = c(1.5, 2.5, 0.6, 1.1, 2.7))
cz <- (chg$v2 - chg$v1) / sqrt(chg$se1^2 + chg$se2^2)
cp <- 2 * pnorm(-abs(cz))
holm <- list(
  ranking = list(parent = parent,
                 children = lapply(seq_len(nrow(kids)), function(i)
                   list(value = kids$value[i], se = kids$se[i],
                        df = if (is.finite(kids$df[i])) kids$df[i] else "Inf",
                        p = tp[i], p_holm = p.adjust(tp, "holm")[i]))),
  changes = lapply(seq_len(nrow(chg)), function(i)
    list(v1 = chg$v1[i], se1 = chg$se1[i], v2 = chg$v2[i], se2 = chg$se2[i],
         p = cp[i], p_holm = p.adjust(cp, "holm")[i])))
writeLines(toJSON(list(level = level, priorities = pri, holm = holm), auto_unbox = TRUE, digits = NA),
           file.path(dir, "priority-ref.json"))
