#!/bin/sh
# Media in the console, both ways.  A customer sends a PDF, a PNG, an MP3
# and an MP4 (wadesk-sim media): the conversation shows each one's kind,
# name, size and caption, and the image a preview; `s` saves to the XDG
# download directory under a safe name (a file announced as ../../.bashrc
# lands as bashrc.pdf inside it, a second save as "bashrc (2).pdf");
# `wadesk history --json` carries the media objects and `wadesk save`
# fetches one from the hub.  Outbound, `wadesk send --file` and `:attach`
# of each kind reach the customer with the right SHA-256; a renamed ELF
# is refused with media.type and a file over its cap with media.size,
# before a byte is uploaded; in sandbox mode (announced in the welcome's
# settings) media is refused with sandbox.text_only, also before a byte is
# uploaded.
. "$(dirname "$0")/console-lib.sh"
desk_start
PH=919812345690

# The hub's media endpoints (docs/media.md) want the token.
zeros=0000000000000000000000000000000000000000000000000000000000000000
code=$(curl -s -o /dev/null -w '%{http_code}' "$HUB_URL/v1/media/$zeros")
[ "$code" = 401 ] || fail "GET /v1/media without a token answered $code, not 401"

# Small valid samples of each kind, and the hostile ones.
S=$T/s
mkdir -p "$S" "$T/dl"
python3 - "$S" <<'EOF' || fail "cannot make the samples"
import struct, sys, zlib
d = sys.argv[1]
def chunk(t, b):
    return struct.pack('>I', len(b)) + t + b + struct.pack('>I', zlib.crc32(t + b) & 0xffffffff)
def png(w, h, seed):
    rows = b''.join(b'\0' + bytes(v for x in range(w) for v in
                                  ((x * 8 + seed) % 256, (y * 8) % 256, (x * y + seed) % 256))
                    for y in range(h))
    return (b'\x89PNG\r\n\x1a\n' + chunk(b'IHDR', struct.pack('>IIBBBBB', w, h, 8, 2, 0, 0, 0)) +
            chunk(b'IDAT', zlib.compress(rows)) + chunk(b'IEND', b''))
def pdf(word):
    return (b'%PDF-1.4\n1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n'
            b'2 0 obj\n<< /Type /Pages /Kids [] /Count 0 >>\nendobj\n% ' + word +
            b'\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n')
def mp3(n):
    frame = b'\xff\xfb\x90\x64' + b'\0' * 413
    return b'ID3\x03\0\0\0\0\0\0' + frame * n
def mp4(tag):
    ftyp = b'ftypisom\0\0\x02\0isomiso2mp41'
    mdat = b'mdat' + tag * 64
    return struct.pack('>I', len(ftyp) + 4) + ftyp + struct.pack('>I', len(mdat) + 4) + mdat
files = {
    'invoice.pdf': pdf(b'invoice'), 'cat.png': png(48, 32, 0), 'voice.mp3': mp3(4),
    'clip.mp4': mp4(b'in'), 'evil.pdf': pdf(b'evil'),
    'out.pdf': pdf(b'outbound'), 'out.png': png(20, 20, 77), 'out.mp3': mp3(6), 'out.mp4': mp4(b'out'),
    'attach.pdf': pdf(b'attached from the composer'),
}
for name, data in files.items():
    open(d + '/' + name, 'wb').write(data)
# Over the image cap (5 MB): a real PNG header, then padding.
open(d + '/big.png', 'wb').write(png(4, 4, 1) + b'\0' * (6 * 1000 * 1000))
EOF
cp /bin/true "$S/x.pdf"

# A stand-in xdg-open that records what it was asked to open.
mkdir -p "$T/bin"
printf '#!/bin/sh\nprintf "%%s\\n" "$1" >>"%s/opened"\n' "$T" >"$T/bin/xdg-open"
chmod +x "$T/bin/xdg-open"
CONSOLE_ENV="XDG_DOWNLOAD_DIR=$T/dl XDG_CACHE_HOME=$T/c-a/cache PATH=$T/bin:$PATH"
console a "$AGENT_LINK" alice
wait_screen 10 a 'online' || fail "the console did not connect"

media() { "$SIMBIN" media "$@" >>"$T/say.log" 2>&1 || fail "wadesk-sim media $* failed"; }

# ---- inbound: each kind shows its kind, name, size and caption ---------
media "$PH" "$S/invoice.pdf" --caption "the invoice" --name Ravi
wait_screen 15 a '\[document\] invoice\.pdf  [0-9.]+ (B|kB)' || fail "the document is not shown with its size"
wait_screen 5 a 'the invoice' || fail "the document's caption is not shown"
media "$PH" "$S/cat.png" --caption "a cat"
# Images, audio and video carry no file name on WhatsApp: kind and size.
wait_screen 15 a '\[image\] [0-9.]+ kB' || fail "the image is not shown with its size"
wait_screen 5 a 'a cat' || fail "the image's caption is not shown"
# The preview: block or braille characters from libchafa, in colour.
has_preview() {
	screen a | python3 -c '
import sys
t = sys.stdin.read()
sys.exit(0 if sum(1 for ch in t if 0x2580 <= ord(ch) <= 0x259f or 0x2800 <= ord(ch) <= 0x28ff) >= 20 else 1)'
}
wait_for 15 has_preview || fail "the image has no preview"
media "$PH" "$S/voice.mp3" --caption "listen"
wait_screen 15 a '\[audio\] [0-9.]+ kB' || fail "the audio is not shown"
wait_screen 5 a 'listen' || fail "the audio's caption is not shown"
media "$PH" "$S/clip.mp4" --caption "watch"
wait_screen 15 a '\[video\] [0-9.]+ (B|kB)' || fail "the video is not shown"
wait_screen 5 a 'watch' || fail "the video's caption is not shown"

# A download the provider fails once: the hub's reason shows, then the file.
media "$PH" "$S/out.pdf" --fail-downloads 1 --caption "second try"
wait_screen 15 a 'HTTP 503' || fail "the failed download's reason is not shown"
wait_for 30 sh -c "! tmux -S '$TMUX_SOCK' capture-pane -p -t a | grep -q 'HTTP 503'" ||
	fail "the retried download did not replace the reason"
wait_screen 5 a '\[document\] out\.pdf  [0-9]+ B' || fail "the retried file has no size"

# ---- s: a safe name inside the download directory, never overwriting --
media "$PH" "$S/evil.pdf" --filename '../../.bashrc' --caption "open me"
wait_screen 15 a '\[document\] \.\./\.\./\.bashrc' || fail "the hostile name is not shown as sent"
wait_screen 15 a 'open me' || fail "the hostile file's caption is not shown"
# The hub has every file once no "downloading" line is left.
no_download() { ! screen a | grep -q 'downloading'; }
wait_for 20 no_download || fail "the hub did not download the customer's files"
wait_for 20 sh -c "! tmux -S '$TMUX_SOCK' capture-pane -p -t a | grep -q 'not downloaded'" ||
	fail "a download is still pending"
keys a s
wait_screen 15 a "saved to $T/dl/bashrc\.pdf" || fail "s did not save under a safe name"
cmp -s "$T/dl/bashrc.pdf" "$S/evil.pdf" || fail "the saved file differs from what the customer sent"
keys a s
wait_screen 15 a "saved to $T/dl/bashrc \(2\)\.pdf" || fail "a second save did not get a new name"
cmp -s "$T/dl/bashrc (2).pdf" "$S/evil.pdf" || fail "the second saved file differs"
for p in "$T/.bashrc" "$T/c-a/.bashrc" "$T/dl/.bashrc" "$T/../.bashrc"; do
	[ -e "$p" ] && fail "a file landed outside the download directory: $p"
done
# [ selects older media: twice, past out.pdf, to the video.
keys a '['
wait_screen 5 a '> \[document\] out\.pdf' || fail "[ did not select the older media"
keys a '['
wait_screen 5 a '> \[video\]' || fail "[ did not select the video"
keys a s
wait_screen 15 a "saved to $T/dl/video-[0-9]+\.mp4" || fail "[ then s did not save the previous media (the video)"
# o saves a copy and opens that copy, never the cached file.
keys a o
wait_for 10 test -s "$T/opened" || fail "o did not run xdg-open"
case $(cat "$T/opened") in
"$T"/dl/video-*" (2).mp4") ;;
*) fail "o opened '$(cat "$T/opened")'" ;;
esac

# ---- history --json and wadesk save -----------------------------------
wadesk --link "$AGENT_LINK" history "$PH" --json >"$T/h.json" || fail "history --json failed"
python3 - "$T/h.json" <<'EOF' || fail "history --json lacks the media objects"
import json, sys
h = json.load(open(sys.argv[1]))
m = [x['media'] for x in h if 'media' in x]
names = [o['name'] for o in m]
assert 'invoice.pdf' in names and '../../.bashrc' in names, names
mimes = sorted(o['mime'] for o in m)
for want in ('application/pdf', 'image/png', 'audio/mpeg3', 'video/mp4'):
    assert want in mimes, mimes
for o in m:
    assert o['size'] > 0 and len(o['sha256']) == 64 and o['state'] == 'ready', o
EOF
wadesk --link "$AGENT_LINK" history "$PH" | grep -q 'in: \[document invoice\.pdf [0-9]* B\] the invoice' ||
	fail "plain history does not show the media"
id=$(python3 -c '
import json, sys
print([x["id"] for x in json.load(open(sys.argv[1])) if x.get("media", {}).get("name") == "invoice.pdf"][0])' "$T/h.json")
out=$(wadesk --link "$AGENT_LINK" save "$id" "$T/out") || fail "wadesk save failed"
[ "$out" = "$T/out/invoice.pdf" ] || fail "wadesk save printed '$out'"
cmp -s "$T/out/invoice.pdf" "$S/invoice.pdf" || fail "wadesk save wrote something else"
wadesk --link "$AGENT_LINK" save 999999 "$T/out" 2>/dev/null
[ $? -eq 1 ] || fail "wadesk save of an unknown message did not exit 1"

# ---- outbound: wadesk send --file of each kind ------------------------
sha12() { sha256sum "$1" | cut -c1-12; }
for f in out.pdf out.png out.mp3 out.mp4; do
	wadesk --link "$AGENT_LINK" send "$PH" --file "$S/$f" --caption "here is $f" >>"$T/send.log" 2>&1 ||
		fail "wadesk send --file $f failed: $(tail -n 2 "$T/send.log")"
	s=$(sha12 "$S/$f")
	wait_for 20 sh -c "\"$SIMBIN\" inbox $PH | grep -q 'sha256:$s'" ||
		fail "$f did not reach the customer with its digest ($(inbox $PH | tail -n 3))"
done

# :attach from the console
keys a ':'
text a "attach $S/attach.pdf from the composer"
keys a Enter
s=$(sha12 "$S/attach.pdf")
wait_for 20 sh -c "\"$SIMBIN\" inbox $PH | grep -q 'sha256:$s'" || fail ":attach did not reach the customer"

# ---- refusals before a byte is uploaded -------------------------------
stored() { find "$D/media" -type f ! -path '*/tmp/*' 2>/dev/null | wc -l; }
before=$(stored)
wadesk --link "$AGENT_LINK" send "$PH" --file "$S/x.pdf" 2>"$T/err"
rc=$?
[ "$rc" -eq 1 ] || fail "a renamed ELF: exit $rc, not 1"
grep -q 'refused (media.type):.*ELF' "$T/err" || fail "a renamed ELF: $(cat "$T/err")"
wadesk --link "$AGENT_LINK" send "$PH" --file "$S/big.png" 2>"$T/err"
rc=$?
[ "$rc" -eq 1 ] || fail "an image over the cap: exit $rc, not 1"
grep -q 'refused (media.size)' "$T/err" || fail "an image over the cap: $(cat "$T/err")"
keys a ':'
text a "attach $S/x.pdf"
keys a Enter
wait_screen 5 a 'refused \(media\.type\)' || fail ":attach of a renamed ELF was not refused"
[ "$(stored)" = "$before" ] || fail "a refused file reached the hub's store"

# ---- sandbox: media refused (sandbox.text_only) -----------------------
hub_stop
if grep -q '^sandbox' "$D/wadesk.conf"; then
	sed -i 's/^sandbox.*/sandbox = true/' "$D/wadesk.conf"
else
	sed -i 's/^\[provider\]/[provider]\nsandbox = true/' "$D/wadesk.conf"
fi
hub_start
# The welcome carries sandbox (wadesk.conf), so the console refuses before
# it uploads: a file the hub has never seen stays out of its store, and
# the hub counts no upload.
cp "$S/out.pdf" "$S/sandbox.pdf" && printf '%% sandbox\n' >>"$S/sandbox.pdf"
before=$(stored)
wadesk --link "$AGENT_LINK" send "$PH" --file "$S/sandbox.pdf" 2>"$T/err"
rc=$?
[ "$rc" -eq 1 ] || fail "media in sandbox: exit $rc, not 1"
grep -q 'refused (sandbox.text_only)' "$T/err" || fail "media in sandbox: $(cat "$T/err")"
[ "$(stored)" = "$before" ] || fail "media in sandbox was uploaded before the refusal"
curl -s "$HUB_URL/metrics" >"$T/metrics"
grep -q '^wadesk_media_uploads_total{result="ok"} 0$' "$T/metrics" ||
	fail "media in sandbox was uploaded: $(grep uploads_total "$T/metrics")"
exit 0
