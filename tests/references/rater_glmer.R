# lme4 reference fits for prefstat.RaterBradleyTerry (position bias only, order effect).
#
# Called by make_rater_glmer.py:  Rscript rater_glmer.R <jobs.json> <out.json>
# jobs.json is a list of {id, csv, reference, items}; each csv has one 0/1 judgement per row with
# columns y (1 = item_a preferred), rater, item_a, item_b.  The model is
#
#   glmer(y ~ 0 + order + X + (1 | rater), family = binomial)      (Laplace, nAGQ = 1)
#
# with `order` a column of 1s (item_a was shown first) and X the +1/-1 item design
# (column k = 1{item_a == k} - 1{item_b == k}), the reference item's column dropped.
# Each data set is fitted with every control in CONTROLS; "tight" is the exact Laplace optimum.
suppressPackageStartupMessages({
  library(lme4)
  library(jsonlite)
})

args <- commandArgs(trailingOnly = TRUE)
jobs <- fromJSON(args[1], simplifyVector = FALSE)

CONTROLS <- list(
  default = list(
    text = "glmerControl()  (tolPwrss = 1e-7; optimizers bobyqa then Nelder_Mead)",
    ctrl = glmerControl()),
  tight = list(
    text = paste("glmerControl(tolPwrss = 1e-13, optimizer = c('bobyqa', 'bobyqa'),",
                 "optCtrl = list(rhoend = 1e-12, maxfun = 1e6))"),
    ctrl = glmerControl(tolPwrss = 1e-13, optimizer = c("bobyqa", "bobyqa"),
                        optCtrl = list(rhoend = 1e-12, maxfun = 1e6))),
  tight_pirls_only = list(
    text = "glmerControl(tolPwrss = 1e-13)  (default optimizers)",
    ctrl = glmerControl(tolPwrss = 1e-13)),
  tight_optimizer_only = list(
    text = paste("glmerControl(optimizer = c('bobyqa', 'bobyqa'),",
                 "optCtrl = list(rhoend = 1e-12, maxfun = 1e6))  (default tolPwrss = 1e-7)"),
    ctrl = glmerControl(optimizer = c("bobyqa", "bobyqa"),
                        optCtrl = list(rhoend = 1e-12, maxfun = 1e6)))
)

design <- function(d, items, reference) {
  free <- setdiff(items, reference)
  X <- sapply(free, function(k) (d$item_a == k) - (d$item_b == k))
  X <- matrix(X, nrow = nrow(d))
  colnames(X) <- sprintf("x%03d", seq_along(free))
  list(X = X, free = free)
}

fit_one <- function(job) {
  d <- read.csv(job$csv, colClasses = c(rater = "character", item_a = "character",
                                        item_b = "character"))
  items <- unlist(job$items)
  des <- design(d, items, job$reference)
  dat <- data.frame(y = d$y, order = 1, rater = factor(d$rater), des$X, check.names = FALSE)
  rhs <- paste(c("0", "order", colnames(des$X), "(1 | rater)"), collapse = " + ")
  f <- as.formula(paste("y ~", rhs))
  names_map <- c(order = "order_effect", setNames(des$free, colnames(des$X)))
  # the exact Laplace deviance function (tight PIRLS) and lme4's default one
  dev_tight <- glmer(f, data = dat, family = binomial, devFunOnly = TRUE,
                     control = glmerControl(tolPwrss = 1e-13))
  dev_default <- glmer(f, data = dat, family = binomial, devFunOnly = TRUE)
  out <- list()
  for (cn in names(CONTROLS)) {
    msgs <- character(0)
    m <- withCallingHandlers(
      glmer(f, data = dat, family = binomial, control = CONTROLS[[cn]]$ctrl),
      warning = function(w) { msgs <<- c(msgs, conditionMessage(w)); invokeRestart("muffleWarning") },
      message = function(w) { msgs <<- c(msgs, conditionMessage(w)); invokeRestart("muffleMessage") })
    be <- fixef(m)
    V <- as.matrix(vcov(m))                       # default: Hessian-based (deriv12 stencil)
    V_rx <- suppressWarnings(as.matrix(vcov(m, use.hessian = FALSE)))
    re <- ranef(m, condVar = TRUE)$rater
    pv <- attr(re, "postVar")
    th <- getME(m, "theta")
    pars <- c(th, be)
    H <- m@optinfo$derivs$Hessian
    # SE of the sd (theta) from lme4's own finite-difference Hessian of the deviance
    sd_se <- tryCatch(sqrt(2 * solve(H)[1, 1]), error = function(e) NA_real_)
    out[[cn]] <- list(
      control = CONTROLS[[cn]]$text,
      fixef = as.list(setNames(unname(be), names_map[names(be)])),
      se = as.list(setNames(sqrt(diag(V)), names_map[names(be)])),
      se_rx = as.list(setNames(sqrt(diag(V_rx)), names_map[names(be)])),
      sd = unname(th),
      sd_se_hessian = if (is.finite(sd_se)) sd_se else NULL,
      logLik = as.numeric(logLik(m)),
      deviance_laplace = unname(-2 * as.numeric(logLik(m))),
      dev_exact_at_estimate = dev_tight(pars),
      dev_default_pirls_at_estimate = dev_default(pars),
      isSingular = isSingular(m),
      ranef = as.list(setNames(re[, 1], rownames(re))),
      ranef_condvar = as.list(setNames(as.numeric(pv), rownames(re))),
      optimizer = m@optinfo$optimizer,
      optimizer_messages = I(as.character(m@optinfo$conv$lme4$messages)),
      warnings = I(trimws(msgs)),
      feval = m@optinfo$feval
    )
  }
  list(id = job$id, n_obs = nrow(dat), n_raters = nlevels(dat$rater), formula = deparse1(f),
       fits = out)
}

res <- lapply(jobs, fit_one)
meta <- list(R = R.version.string, lme4 = as.character(packageVersion("lme4")),
             Matrix = as.character(packageVersion("Matrix")),
             jsonlite = as.character(packageVersion("jsonlite")),
             blas = tryCatch(sessionInfo()$BLAS, error = function(e) NA_character_),
             date = format(Sys.time(), "%Y-%m-%d %H:%M:%S %Z"))
writeLines(toJSON(list(meta = meta, results = res), auto_unbox = TRUE, digits = NA,
                  null = "null", pretty = TRUE), args[2])
