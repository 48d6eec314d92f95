#!/bin/sh
# wadesk-sim media, both ways, with the sim alone:
# - `wadesk-sim media PHONE FILE` posts the v2 message webhook of the right
#   type (image, file, audio, video) with url, contentType, caption and,
#   for documents, the name; the payload URL (no apikey) and the media API
#   (apikey required) return the exact bytes;
# - --fail-downloads N and --expire-after-download, per file and as run
#   options;
# - outbound media sends are downloaded from their URL (a python3 web
#   server on loopback, and the sim's own payload URL) and land in the
#   inbox with mime, size and sha256; a failed download or a file off the
#   whitelist gives a failed event with Gupshup's code and reason;
# - the sandbox refuses media both ways.
. "$(dirname "$0")/simlib.sh"
command -v python3 >/dev/null || fail "python3 is needed (make deps)"

# Sample files, made here: libmagic takes each for what its name says.
mkdir "$T/www"
python3 - "$T/www" <<'EOF'
import os, struct, sys, zlib
d = sys.argv[1]
def chunk(t, b):
    return struct.pack('>I', len(b)) + t + b + struct.pack('>I', zlib.crc32(t + b) & 0xffffffff)
rows = b''.join(b'\0' + bytes((x * 16 + y * 3 + c * 40) % 256 for x in range(16) for c in range(3))
                for y in range(16))
png = (b'\x89PNG\r\n\x1a\n' + chunk(b'IHDR', struct.pack('>IIBBBBB', 16, 16, 8, 2, 0, 0, 0)) +
       chunk(b'IDAT', zlib.compress(rows)) + chunk(b'IEND', b''))
objs = [b'<< /Type /Catalog /Pages 2 0 R >>', b'<< /Type /Pages /Kids [3 0 R] /Count 1 >>',
        b'<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 100] >>']
pdf, offs = b'%PDF-1.4\n', []
for i, o in enumerate(objs):
    offs.append(len(pdf))
    pdf += b'%d 0 obj\n' % (i + 1) + o + b'\nendobj\n'
xref = len(pdf)
pdf += b'xref\n0 4\n0000000000 65535 f \n' + b''.join(b'%010d 00000 n \n' % o for o in offs)
pdf += b'trailer\n<< /Size 4 /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n' % xref
mp3 = b'ID3\x03\0\0\0\0\0\0' + (b'\xff\xfb\x90\x64' + bytes(413)) * 3
brands = b'isom' + struct.pack('>I', 512) + b'isomiso2mp41'
mp4 = struct.pack('>I', 8 + len(brands)) + b'ftyp' + brands + struct.pack('>I', 72) + b'free' + bytes(64)
for name, data in (('pic.png', png), ('doc.pdf', pdf), ('song.mp3', mp3), ('clip.mp4', mp4)):
    open(os.path.join(d, name), 'wb').write(data)
EOF
cp /bin/true "$T/www/evil.pdf"

sha() { sha256sum "$1" | cut -d' ' -f1; }
# hook_field N KEY: KEY's string value in the Nth message webhook.
hook_field() {
	grep '"type":"message"' "$HOOKS" | sed -n "$1p" | sed -n "s/.*\"$2\":\"\([^\"]*\)\".*/\1/p"
}
media_id() { printf '%s' "$1" | sed 's|.*/||; s|?.*||'; }

sim_start --app "$APP" --apikey "$KEY" --event-delay 50
C=919812345678

# ---- Inbound: one file per category. ----
n=0
for row in "pic.png image image/png look" "doc.pdf file application/pdf invoice" \
           "song.mp3 audio audio/mpeg listen" "clip.mp4 video video/mp4 watch"; do
	set -- $row
	n=$((n + 1))
	sim media "$C" "$T/www/$1" --caption "$4" --name Asha >"$T/out" || fail "media $1 refused: $(cat "$T/out")"
	grep -q "^delivered: $2 $3 " "$T/out" || fail "media $1 said: $(cat "$T/out")"
	wait_for 10 sh -c "[ \$(grep -c '\"type\":\"message\"' '$HOOKS') -ge $n ]" || fail "no webhook for $1"
	hook=$(grep '"type":"message"' "$HOOKS" | sed -n "${n}p")
	case $hook in *"\"source\":\"$C\",\"type\":\"$2\",\"payload\":{\"url\":\"$SIM/wa/$APP/wa/media/"*) ;;
		*) fail "$1: webhook type/url: $hook" ;; esac
	[ "$(hook_field "$n" contentType)" = "$3" ] || fail "$1: contentType: $hook"
	[ "$(hook_field "$n" caption)" = "$4" ] || fail "$1: caption: $hook"
	printf '%s' "$hook" | grep -q '"urlExpiry":[0-9]' || fail "$1: no urlExpiry"
	printf '%s' "$hook" | grep -q '"sender":{"phone":"919812345678","name":"Asha"' || fail "$1: sender"
	if [ "$2" = file ]; then
		printf '%s' "$hook" | grep -q "\"caption\":\"$4\",\"name\":\"$1\"" || fail "$1: document name: $hook"
	else
		printf '%s' "$hook" | grep -q '"name":"'"$1" && fail "$1: a name on a non-document"
	fi
	url=$(hook_field "$n" url)
	id=$(media_id "$url")
	# The payload URL needs no apikey; the media API does.
	curl -s -o "$T/got" "$url" || fail "$1: GET payload URL"
	cmp -s "$T/got" "$T/www/$1" || fail "$1: payload URL bytes differ"
	code=$(curl -s -o "$T/got" -w '%{http_code} %{content_type}' -H "apikey: $KEY" "$SIM/sm/api/v1/wamedia/$APP/$id")
	[ "$code" = "200 application/octet-stream" ] || fail "$1: wamedia answered $code"
	cmp -s "$T/got" "$T/www/$1" || fail "$1: wamedia bytes differ"
	code=$(curl -s -o /dev/null -w '%{http_code}' "$SIM/sm/api/v1/wamedia/$APP/$id")
	[ "$code" = 401 ] || fail "$1: wamedia without apikey answered $code"
	code=$(curl -s -o /dev/null -w '%{http_code}' -H "apikey: wrong" "$SIM/sm/api/v1/wamedia/$APP/$id")
	[ "$code" = 401 ] || fail "$1: wamedia with a wrong apikey answered $code"
done

# A renamed executable is delivered as the phone sends it (the hub must refuse it).
sim media "$C" "$T/www/evil.pdf" >"$T/out" || fail "evil.pdf refused"
grep -q '^delivered: file application/pdf (sniffed application/x-[a-z-]*\(executable\|sharedlib\))' "$T/out" \
	|| fail "evil.pdf said: $(cat "$T/out")"
# A name like ../../.bashrc goes out as given (the hub must make it safe).
sim media "$C" "$T/www/doc.pdf" --filename ../../.bashrc >/dev/null || fail "--filename refused"
wait_for 5 grep -q '"name":"../../.bashrc"' "$HOOKS" || fail "--filename not in the webhook"

# ---- Faults, per file (and --json). ----
sim media "$C" "$T/www/doc.pdf" --fail-downloads 2 --expire-after-download --json >"$T/out" \
	|| fail "faulty media refused"
url=$(sed -n 's/.*"url":"\([^"]*\)".*/\1/p' "$T/out")
id=$(sed -n 's/.*"id":"\([^"]*\)".*/\1/p' "$T/out")
[ -n "$id" ] && [ "$(media_id "$url")" = "$id" ] || fail "media --json: $(cat "$T/out")"
grep -q '"type":"file","mime":"application/pdf","sniffed":"application/pdf"' "$T/out" || fail "media --json: $(cat "$T/out")"
codes=
for i in 1 2 3 4; do codes="$codes $(curl -s -o "$T/got$i" -w '%{http_code}' "$url")"; done
[ "$codes" = " 503 503 200 410" ] || fail "--fail-downloads 2 --expire-after-download: $codes"
cmp -s "$T/got3" "$T/www/doc.pdf" || fail "bytes after the failures differ"
code=$(curl -s -o /dev/null -w '%{http_code}' -H "apikey: $KEY" "$SIM/sm/api/v1/wamedia/$APP/$id")
[ "$code" = 404 ] || fail "expired media on the media API: $code"
code=$(curl -s -o /dev/null -w '%{http_code}' "$SIM/wa/$APP/wa/media/nope?download=false")
[ "$code" = 404 ] || fail "unknown payload URL: $code"

sim media "$C" "$T/nothing" >/dev/null 2>&1; [ $? = 2 ] || fail "a missing file is not a usage error"
sim media 12 "$T/www/doc.pdf" >/dev/null 2>&1; [ $? = 1 ] || fail "a bad phone is not refused"

# ---- Outbound: a web server on loopback serves the business's files. ----
run_www() { cd "$T/www" && exec python3 -m http.server --bind 127.0.0.1 "$PORT"; }
start_listener www run_www
WWW=http://127.0.0.1:$PORT

# send_media JSON: a session media message; prints its messageId.
send_media() {
	r=$(post /sm/api/v1/msg channel=whatsapp source=917834811114 "destination=$C" "message=$1" "src.name=$APP")
	[ "${r%% *}" = 202 ] || fail "media send answered: $r"
	printf '%s' "$r" | sed 's/.*"messageId":"\([^"]*\)".*/\1/'
}
# wait_event ID TYPE KEY: the message-event TYPE reaches the sink, ID in
# its KEY (Gupshup puts a failed or enqueued event's id in "id", the
# others' in "gsId").
wait_event() {
	wait_for 15 grep -q "\"$3\":\"$1\",\"type\":\"$2\"" "$HOOKS"
}

# inbox_media ID: "mime size sha256 name" of that message in the inbox.
inbox_media() {
	sim inbox "$C" --json | tr '{' '\n' | grep -A1 "\"id\":\"$1\"" | tr '\n' ' ' |
		sed -n 's/.*"name":"\([^"]*\)","mime":"\([^"]*\)","size":\([0-9]*\),"sha256":"\([0-9a-f]*\)".*/\2 \3 \4 \1/p'
}

for row in "pic.png image image/png" "doc.pdf file application/pdf" \
           "song.mp3 audio audio/mpeg3" "clip.mp4 video video/mp4"; do
	set -- $row
	case $2 in
	image) msg="{\"type\":\"image\",\"originalUrl\":\"$WWW/$1\",\"previewUrl\":\"$WWW/$1\",\"caption\":\"for you\"}" ;;
	file)  msg="{\"type\":\"file\",\"url\":\"$WWW/$1\",\"filename\":\"Invoice 7.pdf\"}" ;;
	*)     msg="{\"type\":\"$2\",\"url\":\"$WWW/$1\"}" ;;
	esac
	id=$(send_media "$msg")
	wait_event "$id" read gsId || fail "$1: no read event (hooks: $(grep "$id" "$HOOKS"))"
	got=$(inbox_media "$id")
	size=$(wc -c <"$T/www/$1" | tr -d ' ')
	case $got in "$3 $size $(sha "$T/www/$1") "*) ;; *) fail "$1: inbox media: '$got'" ;; esac
	[ "$2" != file ] || case $got in *" Invoice 7.pdf") ;; *) fail "document name: $got" ;; esac
done
sim inbox "$C" | grep -q 'read      image.*\[image/png [0-9]* bytes sha256:' || fail "inbox text: $(sim inbox "$C")"

# The sim's own payload URL works as a business URL too.
sim media "$C" "$T/www/pic.png" >"$T/out" || fail "media refused"
url=$(sed 's/.* //' "$T/out")
id=$(send_media "{\"type\":\"image\",\"originalUrl\":\"$url\",\"previewUrl\":\"$url\"}")
wait_event "$id" read gsId || fail "own URL: no read event"
case $(inbox_media "$id") in "image/png "*" $(sha "$T/www/pic.png") "*) ;; *) fail "own URL: $(inbox_media "$id")" ;; esac

# Failed downloads: one failed event with Gupshup's code and reason.
for row in "file|$WWW/missing.pdf|131053|HTTP 404" \
           "file|$WWW/evil.pdf|131053|unsupported media" \
           "image|$WWW/doc.pdf|131053|image message cannot carry" \
           "file|file:///etc/passwd|131053|cannot download" \
           "file|http://127.0.0.1:1/x.pdf|131053|cannot download"; do
	type=${row%%|*}; rest=${row#*|}; u=${rest%%|*}; rest=${rest#*|}; code=${rest%%|*}; why=${rest#*|}
	if [ "$type" = image ]; then msg="{\"type\":\"image\",\"originalUrl\":\"$u\",\"previewUrl\":\"$u\"}"
	else msg="{\"type\":\"file\",\"url\":\"$u\",\"filename\":\"x.pdf\"}"; fi
	id=$(send_media "$msg")
	wait_event "$id" failed id || fail "$u: no failed event"
	ev=$(grep "\"id\":\"$id\",\"type\":\"failed\"" "$HOOKS")
	case $ev in *"\"code\":$code,\"reason\":\"Media upload error: "*"$why"*) ;; *) fail "$u: $ev" ;; esac
	grep -q "\"gsId\":\"$id\",\"type\":\"read\"" "$HOOKS" && fail "$u: read after failing"
done

# ---- Run options: every customer file fails once and expires. ----
sim_stop
sim_restart --app "$APP" --apikey "$KEY" --event-delay 50 --fail-downloads 1 --expire-after-download
sim media "$C" "$T/www/pic.png" >"$T/out" || fail "media refused (run faults)"
url=$(sed 's/.* //' "$T/out")
codes=
for i in 1 2 3; do codes="$codes $(curl -s -o /dev/null -w '%{http_code}' "$url")"; done
[ "$codes" = " 503 200 410" ] || fail "--fail-downloads 1 --expire-after-download (run): $codes"
sim media "$C" "$T/www/pic.png" --fail-downloads 0 >"$T/out" || fail "media refused"
url=$(sed 's/.* //' "$T/out")
codes=
for i in 1 2; do codes="$codes $(curl -s -o /dev/null -w '%{http_code}' "$url")"; done
[ "$codes" = " 200 410" ] || fail "--fail-downloads 0 over the run's 1: $codes"

# ---- Sandbox: media refused both ways. ----
sim_stop
sim_restart --app "$APP" --apikey "$KEY" --event-delay 50 --sandbox
gets=$(grep -c '"GET /pic.png' "$T/www.err")
sim say "$C" "PROXY $APP" >/dev/null || fail "PROXY refused"
sim media "$C" "$T/www/pic.png" >"$T/out" 2>&1; rc=$?
[ "$rc" = 1 ] || fail "sandbox media exited $rc: $(cat "$T/out")"
grep -q 'Sandbox apps receive text messages only' "$T/out" || fail "sandbox media said: $(cat "$T/out")"
id=$(send_media "{\"type\":\"image\",\"originalUrl\":\"$WWW/pic.png\",\"previewUrl\":\"$WWW/pic.png\"}")
wait_event "$id" failed id || fail "sandbox: no failed event for outbound media"
grep "\"id\":\"$id\",\"type\":\"failed\"" "$HOOKS" | grep -q '"code":1010' || fail "sandbox media not 1010"
[ "$(grep -c '"GET /pic.png' "$T/www.err")" = "$gets" ] || fail "the sandbox downloaded refused media"
sim_stop
echo ok
