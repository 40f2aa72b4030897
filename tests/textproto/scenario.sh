#!/bin/bash
# Runs inside `unshare -n` (a network namespace of its own: only lo, up),
# recording on lo: vsftpd with curl (passive, EPSV, active PORT and EPRT),
# tftpd-hpa with tftp-hpa and curl (blksize), an error, a write, and an RRQ
# built in Lua; python3-aiosmtpd with swaks (EHLO, AUTH PLAIN and LOGIN,
# DATA, STARTTLS); dovecot with curl pop3:// and imap://.
#   scenario.sh WORKDIR SFLUA    -> WORKDIR/textproto.pcap
set -u
w=$1 sflua=$2 here=$(cd "$(dirname "$0")" && pwd)
ip link set lo up
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done; wait 2>/dev/null; }
trap cleanup EXIT
mkdir -p "$w/ftp/pub" "$w/tftp" "$w/empty" "$w/run" "$w/home/bob/Maildir/new" "$w/home/bob/Maildir/cur" "$w/home/bob/Maildir/tmp"
head -c 3000 /dev/urandom | base64 > "$w/ftp/pub/file.txt"
head -c 5000 /dev/urandom > "$w/tftp/file.bin"
printf 'hello over tftp\n' > "$w/tftp/small.txt"
: > "$w/tftp/upload.txt"; chmod 666 "$w/tftp/upload.txt"
printf 'From: alice@example.org\r\nTo: bob@example.org\r\nSubject: test\r\n\r\nHello Bob.\r\n' \
  > "$w/home/bob/Maildir/new/1.msg"
chown -R 65534:65534 "$w/home"; chmod 755 "$w" "$w/ftp" "$w/tftp"
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$w/key.pem" -out "$w/cert.pem" \
  -days 2 -subj /CN=localhost 2>/dev/null

tcpdump -i lo -w "$w/textproto.pcap" -U -s 0 'not port 1' 2>"$w/tcpdump.log" & pids+=($!)
sleep 1

cat > "$w/vsftpd.conf" <<CONF
listen=YES
background=NO
anonymous_enable=YES
local_enable=NO
anon_root=$w/ftp
secure_chroot_dir=$w/empty
seccomp_sandbox=NO
pasv_enable=YES
port_enable=YES
connect_from_port_20=NO
xferlog_enable=NO
CONF
vsftpd "$w/vsftpd.conf" & pids+=($!)
in.tftpd -L -4 -c -s "$w/tftp" & pids+=($!)   # -a 127.0.0.1 needs an address besides lo
/usr/bin/python3 "$here/smtp_server.py" 127.0.0.1 25 "$w/cert.pem" "$w/key.pem" > "$w/smtp25.log" 2>&1 & pids+=($!)
/usr/bin/python3 "$here/smtp_server.py" 127.0.0.1 587 "$w/cert.pem" "$w/key.pem" > "$w/smtp587.log" 2>&1 & pids+=($!)
echo 'bob:{PLAIN}secret:65534:65534::'"$w"'/home/bob' > "$w/passwd"
cat > "$w/dovecot.conf" <<CONF
protocols = pop3 imap
listen = 127.0.0.1
base_dir = $w/run
state_dir = $w/run
log_path = $w/dovecot.log
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
first_valid_uid = 1
mail_location = maildir:~/Maildir
passdb {
  driver = passwd-file
  args = $w/passwd
}
userdb {
  driver = passwd-file
  args = $w/passwd
}
CONF
dovecot -F -c "$w/dovecot.conf" & pids+=($!)
# every server listening before the clients start (a loaded machine is slow
# to start dovecot and Python): up to 20 s
for _ in $(seq 100); do
  up=$( (ss -ltn; ss -lun) | grep -cE '127\.0\.0\.1:(21|25|587|110|143) |[*0.:]+:(21|69|110|143) ')
  (( up >= 6 )) && break
  sleep 0.2
done

ftp=ftp://127.0.0.1/pub/file.txt
curl -s -o /dev/null "$ftp"                               # PASV (EPSV first)
curl -s -o /dev/null --disable-epsv "$ftp"                # PASV
curl -s -o /dev/null -P 127.0.0.1 --disable-eprt "$ftp"   # PORT
curl -s -o /dev/null -P 127.0.0.1 "$ftp"                  # EPRT
curl -s "ftp://127.0.0.1/pub/" > /dev/null                # LIST
curl -s -o /dev/null "ftp://127.0.0.1/pub/missing"        # 550

timeout 10 tftp 127.0.0.1 -m octet -c get small.txt "$w/got1"
timeout 10 curl -s -o "$w/got2" --tftp-blksize 1024 tftp://127.0.0.1/file.bin
timeout 10 curl -s -o /dev/null tftp://127.0.0.1/missing.txt
printf 'uploaded\n' > "$w/up"; timeout 10 tftp 127.0.0.1 -m netascii -c put "$w/up" upload.txt
( cd "$w" && timeout 10 "$sflua" "$here/tftp_rrq.lua" > "$w/rrq_lua.out" 2>&1 )

s="swaks --server 127.0.0.1 --from alice@example.org --to bob@example.org --hide-all"
$s --port 25 --body 'Hello Bob.' --header 'Subject: one'
$s --port 25 --auth PLAIN --auth-user alice --auth-password secret --body 'Second.'
$s --port 587 --auth LOGIN --auth-user alice --auth-password secret --data $'Subject: three\r\n\r\nline 1\r\n.dot line\r\nlast\r\n'
$s --port 587 --tls --auth PLAIN --auth-user alice --auth-password secret --body 'Secret.'

curl -s pop3://bob:secret@127.0.0.1/ > /dev/null          # LIST
curl -s pop3://bob:secret@127.0.0.1/1 > /dev/null         # RETR 1
curl -s -X CAPA pop3://bob:secret@127.0.0.1/ > /dev/null
curl -s pop3://bob:wrong@127.0.0.1/ > /dev/null           # -ERR
curl -s imap://bob:secret@127.0.0.1/ > /dev/null          # LIST
curl -s 'imap://bob:secret@127.0.0.1/INBOX;UID=1' > /dev/null   # FETCH
curl -s -X 'EXAMINE INBOX' imap://bob:secret@127.0.0.1/ > /dev/null
curl -s imap://bob:wrong@127.0.0.1/ > /dev/null           # NO
sleep 1
