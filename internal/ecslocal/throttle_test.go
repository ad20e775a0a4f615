package ecslocal_test

import (
	"context"
	"errors"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/smithy-go"

	"github.com/phased-ecs/terraform-provider-ecs/internal/ecslocal"
)

func describeOnce(e *env, optFns ...func(*ecs.Options)) error {
	_, err := e.ecs.DescribeServices(context.Background(), &ecs.DescribeServicesInput{
		Cluster: aws.String("prod"), Services: []string{"web__1"},
	}, optFns...)
	return err
}

func isThrottled(err error) bool {
	var ae smithy.APIError
	return errors.As(err, &ae) && ae.ErrorCode() == "ThrottlingException" && ae.ErrorMessage() == "Rate exceeded"
}

func TestThrottling_describeServicesBucketHoldsOneHundredAndRefillsTwentyASecond(t *testing.T) {
	e := newEnv(t, 0, 0)
	e.seed(t)
	e.createService(t, "web__1", "web:1", 1)
	e.srv.SetThrottling(true)
	noRetry := func(o *ecs.Options) { o.Retryer = aws.NopRetryer{} }

	for i := range 100 {
		if err := describeOnce(e, noRetry); err != nil {
			t.Fatalf("call %d of the burst: %v", i+1, err)
		}
	}
	if err := describeOnce(e, noRetry); !isThrottled(err) {
		t.Fatalf("call 101 of the burst: %v, want ThrottlingException", err)
	}
	// Other operations have buckets of their own.
	if _, err := e.ecs.ListServices(context.Background(), &ecs.ListServicesInput{Cluster: aws.String("prod")}, noRetry); err != nil {
		t.Fatalf("ListServices while DescribeServices is throttled: %v", err)
	}
	e.clock.Advance(time.Second)
	for i := range 20 {
		if err := describeOnce(e, noRetry); err != nil {
			t.Fatalf("call %d after a second of refill: %v", i+1, err)
		}
	}
	if err := describeOnce(e, noRetry); !isThrottled(err) {
		t.Fatalf("call 21 after a second of refill: %v, want ThrottlingException", err)
	}
}

func TestThrottling_sdkRetryerRidesThroughABurst(t *testing.T) {
	// A real clock, so that the bucket refills while the SDK backs off.
	srv := ecslocal.New(ecslocal.Options{Throttling: true})
	hs := httptest.NewServer(srv)
	t.Cleanup(hs.Close)
	client := ecs.NewFromConfig(aws.Config{
		Region:           "us-east-1",
		Credentials:      credentials.NewStaticCredentialsProvider("AKIDTEST", "secret", ""),
		RetryMaxAttempts: 10,
	}, func(o *ecs.Options) { o.BaseEndpoint = aws.String(hs.URL) })
	ctx := context.Background()
	if err := srv.ApplySeed(ecslocal.Seed{Clusters: []string{"prod"}}); err != nil {
		t.Fatal(err)
	}
	for i := range 130 {
		if _, err := client.DescribeServices(ctx, &ecs.DescribeServicesInput{
			Cluster: aws.String("prod"), Services: []string{"web__1"},
		}); err != nil {
			t.Fatalf("call %d failed through the retryer: %v", i+1, err)
		}
	}
	calls := srv.Calls()
	throttled := 0
	for _, c := range calls {
		if c.ErrorCode == "ThrottlingException" {
			throttled++
		}
	}
	if throttled == 0 || len(calls) != 130+throttled {
		t.Fatalf("%d calls with %d throttled; want some throttled and every one retried", len(calls), throttled)
	}
	t.Logf("130 DescribeServices calls absorbed %d ThrottlingExceptions", throttled)
}
