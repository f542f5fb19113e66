# Varnish in front of perfsite (Varnish 6/7 with varnish-modules for xkey).
#
# Start it with deploy/varnish/run, which writes the backend (perfsite-backend.vcl,
# found through vcl_path) and turns http_gzip_support off: Django negotiates
# zstd, br and gzip itself, and this file keeps one variant per normalised
# Accept-Encoding (the response's Vary).
#
# What it does:
# - passes (never looks up, never stores) requests with Authorization or a
#   session or messages cookie, every method but GET and HEAD, and an
#   Accept-Encoding with q-values or "*" (Django honours q=0 itself);
# - stores only what Django marked for shared caches: s-maxage or public,
#   no Set-Cookie, not private/no-store/no-cache, Vary on Accept-Encoding only;
# - keeps no grace: a page past its s-maxage is fetched (revalidated with its
#   ETag, which costs Django a 304), never served stale;
# - tags objects with the xkey header Django sends (CACHING_SURROGATE_KEYS =
#   "xkey") and removes it from responses;
# - accepts PURGE with an xkey-purge header (CACHING_PURGERS "varnish") from
#   the addresses in acl purgers only.
vcl 4.1;

import std;
import xkey;

include "perfsite-backend.vcl";

# Who may purge: the app servers. Add their addresses here.
acl purgers {
    "127.0.0.1";
    "::1";
}

sub vcl_recv {
    # The port the client reached: Django (USE_X_FORWARDED_PORT) then sees a
    # Host of "example.com:8080" arrive on 8080, and caches it.
    set req.http.X-Forwarded-Port = std.port(server.ip);
    if (req.method == "PURGE") {
        if (client.ip !~ purgers) {
            return (synth(403, "Forbidden"));
        }
        if (!req.http.xkey-purge) {
            return (synth(400, "PURGE needs an xkey-purge header"));
        }
        set req.http.x-purged = xkey.purge(req.http.xkey-purge);
        return (synth(200, "Purged " + req.http.x-purged));
    }
    if (req.method != "GET" && req.method != "HEAD") {
        return (pass);
    }
    # Django's has_credentials(): these requests are personal.
    if (req.http.Authorization || req.http.Cookie ~ "(^|;)\s*(sessionid|messages)=") {
        return (pass);
    }
    # q-values or a wildcard ("gzip;q=0", "*;q=0", "br;q=0.5, gzip"): Django
    # negotiates them itself, from the header as sent. Browsers send plain
    # lists, so these are rare, and one variant per spelling would only split
    # the cache.
    if (req.http.Accept-Encoding ~ "[;*]") {
        return (pass);
    }
    # A plain list: Django's coding choice, in as few cache variants as there
    # are codings. Names are matched whole, in any case.
    set req.http.Accept-Encoding = std.tolower(req.http.Accept-Encoding);
    if (req.http.Accept-Encoding ~ "(^|,)\s*zstd\s*(,|$)") {
        set req.http.Accept-Encoding = "zstd, br, gzip";
    } elsif (req.http.Accept-Encoding ~ "(^|,)\s*br\s*(,|$)") {
        set req.http.Accept-Encoding = "br, gzip";
    } elsif (req.http.Accept-Encoding ~ "(^|,)\s*gzip\s*(,|$)") {
        set req.http.Accept-Encoding = "gzip";
    } else {
        unset req.http.Accept-Encoding;
    }
    unset req.http.Available-Dictionary;  # dcz stays between browser and Django
    # Other cookies (csrftoken, analytics) do not make a page personal: Django
    # judges the final response, and one that sets a cookie is never stored.
    return (hash);
}

sub vcl_backend_response {
    set beresp.grace = 0s;
    set beresp.keep = 1h;  # for conditional fetches (If-None-Match) only
    if (bereq.uncacheable) {
        return (deliver);  # a pass
    }
    if (beresp.http.Set-Cookie
        || beresp.http.Cache-Control ~ "(private|no-store|no-cache)"
        || beresp.http.Cache-Control !~ "(s-maxage|public)"
        || std.tolower(regsuball(beresp.http.Vary, "(?i)accept-encoding|[ ,]", "")) != "") {
        set beresp.ttl = 0s;
        set beresp.uncacheable = true;
        return (deliver);
    }
    return (deliver);
}

sub vcl_deliver {
    unset resp.http.xkey;
    if (obj.hits > 0) {
        set resp.http.X-Cache = "hit";
    } else {
        set resp.http.X-Cache = "miss";
    }
}
