# Helpers the CI scripts share; sourced, not run.

# Whether Debian package $1 (name[:arch]) is installed.
installed() {
  dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'ok installed'
}
