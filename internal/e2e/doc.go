// Package e2e holds end-to-end tests that run the real Terraform CLI against the real provider
// binary and an in-process ecslocal: kill and resume (SIGKILL of terraform and the provider),
// Ctrl-C, load with ECS's throttling on, least privilege and credential hygiene. They run only
// with TF_ACC set (make test sets it). The package has no non-test code besides this comment.
package e2e
