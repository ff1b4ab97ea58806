# ph_flags.m4 - portheap's compiler-flag probes.

# PH_TRY_CFLAG(FLAG, VARIABLE)
# Append FLAG to VARIABLE if the C compiler accepts it (with -Werror, so a
# flag the compiler only warns about is left out).
AC_DEFUN([PH_TRY_CFLAG], [
  AS_VAR_PUSHDEF([ph_cache], [ph_cv_cflag_$1])
  AC_CACHE_CHECK([whether $CC accepts $1], [ph_cache], [
    ph_save_CFLAGS=$CFLAGS
    CFLAGS="$CFLAGS -Werror $1"
    AC_COMPILE_IFELSE([AC_LANG_PROGRAM([], [])],
                      [AS_VAR_SET([ph_cache], [yes])],
                      [AS_VAR_SET([ph_cache], [no])])
    CFLAGS=$ph_save_CFLAGS])
  AS_VAR_IF([ph_cache], [yes], [$2="$$2 $1"])
  AS_VAR_POPDEF([ph_cache])
])
