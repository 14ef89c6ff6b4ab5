//go:build tools

// Package tools pins the Kubernetes control-plane binaries the chart tests run
// (deploy/helm/e2e; kube-apiserver by `make cluster-tools`,
// the node's binaries by `make node-tools`). k8s.io/kubernetes requires
// its staging modules at v0.0.0, so go.mod replaces each with the published
// v0.34.x release of the same minor.
package tools

import (
	_ "k8s.io/kubernetes/cmd/kube-apiserver"
	_ "k8s.io/kubernetes/cmd/kube-controller-manager"
	_ "k8s.io/kubernetes/cmd/kube-proxy"
	_ "k8s.io/kubernetes/cmd/kube-scheduler"
	_ "k8s.io/kubernetes/cmd/kubelet"
)
