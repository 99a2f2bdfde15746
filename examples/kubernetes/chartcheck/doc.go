// Package chartcheck lints and renders the mcroute Helm chart.
package chartcheck
