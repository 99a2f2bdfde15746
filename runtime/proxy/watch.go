package proxy

import (
	"context"
	"log/slog"
	"path/filepath"
	"time"

	"github.com/fsnotify/fsnotify"
)

// DefaultReloadDelay is how long Watch waits after a change before
// reloading, so that a burst of writes (an editor's save, a Kubernetes
// ConfigMap symlink swap) gives one reload (mcrouter's
// --reconfiguration-delay-ms is 1000).
const DefaultReloadDelay = 500 * time.Millisecond

// Watch calls reload when any of files changes, until ctx is done. It
// watches the files' directories, so files replaced by rename or through a
// symbolic link swap are noticed; files(), called after each reload, gives
// the new set to watch (a config's imports may change). delay 0 means
// DefaultReloadDelay.
func Watch(ctx context.Context, files func() []string, delay time.Duration, log *slog.Logger, reload func()) error {
	if delay <= 0 {
		delay = DefaultReloadDelay
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	w, err := fsnotify.NewWatcher()
	if err != nil {
		return err
	}
	defer w.Close()
	watched := map[string]bool{}
	interesting := map[string]bool{}
	update := func() {
		interesting = map[string]bool{}
		for _, f := range files() {
			abs, err := filepath.Abs(f)
			if err != nil {
				continue
			}
			interesting[abs] = true
			dir := filepath.Dir(abs)
			if !watched[dir] {
				if err := w.Add(dir); err != nil {
					log.Warn("cannot watch config directory", "dir", dir, "err", err)
					continue
				}
				watched[dir] = true
			}
		}
	}
	update()
	var timer *time.Timer
	var fire <-chan time.Time
	for {
		select {
		case <-ctx.Done():
			if timer != nil {
				timer.Stop()
			}
			return nil
		case ev, ok := <-w.Events:
			if !ok {
				return nil
			}
			name, _ := filepath.Abs(ev.Name)
			base := filepath.Base(name)
			// Kubernetes ConfigMaps swap a "..data" symlink; any change
			// of it concerns every file in the directory.
			if !interesting[name] && base != "..data" {
				continue
			}
			if timer == nil {
				timer = time.NewTimer(delay)
			} else {
				timer.Reset(delay)
			}
			fire = timer.C
		case err, ok := <-w.Errors:
			if !ok {
				return nil
			}
			log.Warn("config watch error", "err", err)
		case <-fire:
			fire = nil
			reload()
			update()
		}
	}
}
