# A shell script for busybox sh using many applets; its stdout, stderr and
# exit status are compared between pyvirt-riscv64 and qemu-riscv64.
set -u
say() { printf '%s: %s\n' "$1" "$2"; }

# shell features: functions, arithmetic, loops, case, here-documents, subshells
total=0
for i in 1 2 3 4 5; do total=$((total + i * i)); done
say arith "$total"
case "$total" in 55) say case ok;; *) say case bad;; esac
count=0; while [ $count -lt 3 ]; do count=$((count + 1)); done; say while "$count"
x=$(echo sub | tr a-z A-Z); say subst "$x"
( cd / && pwd ); say subshell "$(pwd | wc -c | tr -d ' ' | cut -c1-1 | sed 's/.*/n/')"
cat <<END
heredoc line $total
END
trap 'echo trapped EXIT' EXIT

mkdir -p work/a/b
cd work
printf 'banana\napple\ncherry\napple\n' > fruits.txt
seq 1 20 > nums.txt
echo "hello world" > a/hello.txt
cp fruits.txt a/b/copy.txt
mv a/b/copy.txt a/b/moved.txt
ln -s ../hello.txt a/b/link
touch a/empty
ls a a/b
find . -type f | sort
readlink a/b/link
say sort "$(sort fruits.txt | uniq -c | sed 's/^ *//' | tr '\n' ' ')"
say sortr "$(sort -r -u fruits.txt | head -n 2 | tr '\n' ,)"
say grep "$(grep -c apple fruits.txt) $(grep -n cherry fruits.txt)"
say wc "$(wc -l < nums.txt) $(wc -w < a/hello.txt)"
say headtail "$(head -n 3 nums.txt | tail -n 1)"
say awk "$(awk '{s += $1} END {print s, NR}' nums.txt)"
say sed "$(sed -n '5,7p' nums.txt | tr '\n' ' ')"
say cut "$(echo 'a:b:c:d' | cut -d: -f2,4)"
say xargs "$(seq 1 6 | xargs -n 2 echo | tr '\n' '|')"
say expr "$(expr 6 \* 7) $(expr length hello)"
say printf "$(printf '%05d %x %s' 42 255 str)"
say od "$(printf 'AB\n' | od -An -tx1 | tr -s ' ')"
say md5 "$(md5sum fruits.txt)"
say sha256 "$(sha256sum nums.txt | cut -c1-16)"
say base64 "$(echo pyvirt | base64)"
say rev "$(echo stressed | rev)"
say basename "$(basename /a/b/c.txt .txt) $(dirname /a/b/c.txt)"
say date "$(date -u -d @86400 +%Y-%m-%d)"
dd if=nums.txt of=dd.out bs=4 count=3 2>dd.err
say dd "$(cat dd.out | tr '\n' ' ') $(cat dd.err | head -n 1)"
tar cf arch.tar fruits.txt nums.txt a/hello.txt
say tar "$(tar tf arch.tar | tr '\n' ' ')"
gzip -9 -c nums.txt > nums.gz
say gzip "$(gunzip -c nums.gz | md5sum)"
diff fruits.txt nums.txt > diff.out; say diff "$? $(wc -l < diff.out)"
cmp -s fruits.txt fruits.txt && say cmp same
sleep 0.1
sh -c 'kill -TERM $$; sleep 1'; say kill "$?"
say tee "$(echo teed | tee tee.out) $(cat tee.out)"
rm -r a
say rm "$(ls | sort | tr '\n' ' ')"
chmod 600 fruits.txt; say chmod "$(stat -c %a fruits.txt)"
say env "$(FOO=bar env | grep '^FOO=')"
say nl "$(printf 'x\ny\n' | nl | tr -s ' \t' ' ')"
say yes "$(yes y | head -n 3 | tr -d '\n')"
say test "$(test -f nums.txt && echo file) $([ -d . ] && echo dir)"
say uniq "$(printf 'a\nb\nb\nc\n' | uniq -d)"
ls /nonexistent-dir
say missing "$?"
grep -q nomatch fruits.txt; say grepq "$?"
echo to-stderr >&2
exit 3
