#!/usr/bin/env bash
# Runs the acceptance tests of internal/provider with the newest terraform found on PATH outside
# bin/ (a release binary the machine already has), when it is newer than the Terraform built into
# bin/. Nothing is downloaded: when PATH has no newer terraform, it says so and succeeds.
#
#   BASELINE=v1.5.7   the version built into bin/ (make testacc-latest passes TERRAFORM_VERSION)
set -euo pipefail

cd "$(dirname "$0")/.."
export CHECKPOINT_DISABLE=1
baseline="${BASELINE:-v1.5.7}"
baseline="${baseline#v}"
bin_dir="$(pwd -P)/bin"

# newer A B: A is a later version than B.
newer() {
	[[ "$1" != "$2" && "$(printf '%s\n%s\n' "$1" "$2" | sort -V | tail -n 1)" == "$1" ]]
}

best="" best_version=""
IFS=: read -r -a path_dirs <<<"${PATH}"
for dir in "${path_dirs[@]}"; do
	candidate="${dir:-.}/terraform"
	[[ -f "${candidate}" && -x "${candidate}" ]] || continue
	real="$(readlink -f "${candidate}")"
	[[ "$(dirname "${real}")" == "${bin_dir}" ]] && continue
	# `terraform version -json` prints {"terraform_version": "1.11.4", …}; warnings go to stderr.
	version="$("${real}" version -json 2>/dev/null | sed -n 's/.*"terraform_version": *"\([^"]*\)".*/\1/p' | head -n 1)"
	[[ -n "${version}" ]] || continue
	if [[ -z "${best}" ]] || newer "${version}" "${best_version}"; then
		best="${real}" best_version="${version}"
	fi
done

if [[ -z "${best}" ]] || ! newer "${best_version}" "${baseline}"; then
	echo "testacc-latest: no terraform newer than ${baseline} on PATH outside bin/${best:+ (${best} is ${best_version})}; nothing to run"
	exit 0
fi

echo "==> acceptance tests of internal/provider with Terraform ${best_version} (${best})"
env -u TF_ACC_PROVIDER_NAMESPACE -u TF_ACC_PROVIDER_HOST \
	TF_ACC=1 TF_ACC_TERRAFORM_PATH="${best}" \
	go test -count=1 -timeout 30m ./internal/provider/...
