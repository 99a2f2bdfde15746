<?php
// Counts page views in memcached through the mcroute sidecar: PHP's
// Memcached extension (libmemcached) connects to a unix socket when the
// "host" is a path and the port is 0.
$socket = getenv('MEMCACHED_SOCKET') ?: '/run/mcroute/mcroute.sock';

// A persistent id keeps one connection per php-fpm worker across requests.
$m = new Memcached('mcroute');
if (!$m->getServerList()) {
    $m->addServer($socket, 0);
}

$views = $m->increment('views');
if ($views === false) {
    // First view (an increment with an initial value needs the binary
    // protocol; mcroute speaks the text protocol).
    $m->add('views', 1);
    $views = $m->get('views');
}
$host = gethostname();
$m->set("last-view", "$host at " . date(DATE_ATOM), 300);

header('Content-Type: text/plain');
printf("views: %d\nlast view: %s\nvia: %s (%s)\n", $views, $m->get('last-view'), $socket, $m->getResultMessage());
