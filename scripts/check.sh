#!/bin/bash
# Run every test suite listed in selftests/suites, host and test VM, and
# end with one line: "N passed, N failed, N skipped". Every suite prints
# TAP; each "ok"/"not ok" line is one result. A suite that crashes, times
# out or prints no result counts as a failure, and so does a skip whose
# reason is not missing hardware (see skip_ok below).
set -u
cd "$(dirname "$0")/.." || exit 1

out=build/check
mkdir -p "$out"
pass=0 fail=0 skip=0
failed=()

# Only missing hardware may skip a test.
skip_ok() {
	grep -qiE '/dev/kvm|hardware|nested|breakpoints? (do not|don.t) work|no kvm' <<<"$1"
}

count_suite() {
	local name=$1 rc=$2 log=$3 line n=0
	while IFS= read -r line; do
		line=${line%$'\r'}
		case "$line" in
		"not ok "*)
			n=$((n + 1)); fail=$((fail + 1))
			failed+=("$name: $line") ;;
		"ok "*"# SKIP"* | "ok "*"# skip"*)
			n=$((n + 1))
			if skip_ok "${line#*# [Ss][Kk][Ii][Pp]}"; then
				skip=$((skip + 1))
			else
				fail=$((fail + 1))
				failed+=("$name: skipped without a hardware reason: $line")
			fi ;;
		"ok "*)
			n=$((n + 1)); pass=$((pass + 1)) ;;
		esac
	done <"$log"
	if [ "$rc" -ne 0 ] && ! grep -q '^not ok ' "$log"; then
		fail=$((fail + 1))
		failed+=("$name: exited with status $rc$([ "$rc" -eq 124 ] && echo ' (timeout)')")
	elif [ "$n" -eq 0 ]; then
		fail=$((fail + 1))
		failed+=("$name: printed no test results")
	fi
}

# The list is read on fd 3 and every suite's stdin is /dev/null: a suite
# that reads stdin (kvmdbg-launch gives it to the guest's COM1) would
# otherwise eat the rest of the list, and the suites after it would
# silently not run.
only=${SUITES:-}
ran=()
while IFS=$'\t' read -r -u 3 name limit cmd; do
	case "$name" in "" | \#*) continue ;; esac
	if [ -n "$only" ] && [[ " $only " != *" $name "* ]]; then
		continue
	fi
	echo "# ==== suite $name ($cmd)"
	log=$out/$name.tap
	timeout --kill-after=10 "$limit" bash -c "$cmd" </dev/null 2>&1 | tee "$log"
	count_suite "$name" "${PIPESTATUS[0]}" "$log"
	ran+=("$name")
done 3< selftests/suites

# Every suite asked for ran: a name in SUITES that is not in the list is
# an error too.
for name in $(awk -F'\t' '!/^#/ && NF { print $1 }' selftests/suites); do
	if [ -z "$only" ] || [[ " $only " == *" $name "* ]]; then
		[[ " ${ran[*]} " == *" $name "* ]] || { fail=$((fail + 1)); failed+=("$name: did not run"); }
	fi
done
for name in $only; do
	grep -q "^$name"$'\t' selftests/suites ||
		{ fail=$((fail + 1)); failed+=("$name: no such suite in selftests/suites"); }
done

if [ ${#failed[@]} -gt 0 ]; then
	echo "# failures:"
	printf '#   %s\n' "${failed[@]}"
fi
echo "$pass passed, $fail failed, $skip skipped"
[ "$fail" -eq 0 ] && [ $((pass + skip)) -gt 0 ]
