// Command coredns is CoreDNS with only the plugins this cluster's Corefile uses. It leaves out `forward` (and
// every other plugin that sends queries elsewhere), so the cluster's DNS never queries anything off this machine:
// names outside the cluster domain get NXDOMAIN from `template`.
package main

import (
	"github.com/coredns/coredns/core/dnsserver"
	"github.com/coredns/coredns/coremain"

	_ "github.com/coredns/coredns/plugin/cache"
	_ "github.com/coredns/coredns/plugin/errors"
	_ "github.com/coredns/coredns/plugin/health"
	_ "github.com/coredns/coredns/plugin/kubernetes"
	_ "github.com/coredns/coredns/plugin/loadbalance"
	_ "github.com/coredns/coredns/plugin/log"
	_ "github.com/coredns/coredns/plugin/metrics"
	_ "github.com/coredns/coredns/plugin/ready"
	_ "github.com/coredns/coredns/plugin/reload"
	_ "github.com/coredns/coredns/plugin/template"
)

// The plugins' execution order: the same relative order as CoreDNS's own plugin.cfg.
func init() {
	dnsserver.Directives = []string{
		"reload",
		"ready",
		"health",
		"prometheus",
		"errors",
		"log",
		"loadbalance",
		"cache",
		"template",
		"kubernetes",
	}
}

func main() {
	coremain.Run()
}
