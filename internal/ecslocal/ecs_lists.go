package ecslocal

import (
	"slices"
	"strings"
)

// withNextToken adds a page's next token to a list response under key, leaving the member out
// when there is no next page. The API references call the member null then ("This value is null
// when there are no more results to return",
// https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_ListServices.html#ECS-ListServices-response-nextToken),
// and on the AWS JSON 1.1 protocol a null structure member is not sent at all: "Each member
// value provided for the structure is serialized as a JSON property"
// (https://smithy.io/2.0/aws/protocols/aws-json-1_1-protocol.html), and the protocol's
// normative compliance test AwsJson11ServersDontSerializeNullStructureValues expects `{}` for a
// null member
// (https://github.com/smithy-lang/smithy/blob/main/smithy-aws-protocol-tests/model/awsJson1_1/null.smithy).
// So "nextToken" of ListServices, ListTasks, ListClusters and ListTaskDefinitions and
// "NextToken" of Application Auto Scaling's Describe calls are absent on the last page, never
// `null`.
func withNextToken(out map[string]any, key string, next *string) map[string]any {
	if next != nil {
		out[key] = *next
	}
	return out
}

// listClusters is ListClusters
// (https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_ListClusters.html): the ARNs
// of the account's clusters, in pages of maxResults (1–100, default 100) with a nextToken.
// Clusters still within Options.ConsistencyLag are not listed yet.
func (s *Server) listClusters(rc *reqCtx, body []byte) (any, *apiError) {
	var in struct {
		MaxResults *int   `json:"maxResults"`
		NextToken  string `json:"nextToken"`
	}
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	var clusters []*cluster
	for _, c := range s.clusters {
		if c.status == "ACTIVE" && visible(c.visibleAt, rc.now) {
			clusters = append(clusters, c)
		}
	}
	// In creation order, so that pages are stable.
	slices.SortFunc(clusters, func(a, b *cluster) int {
		if d := a.createdAt.Compare(b.createdAt); d != 0 {
			return d
		}
		return strings.Compare(a.name, b.name)
	})
	arns := make([]string, 0, len(clusters))
	for _, c := range clusters {
		arns = append(arns, c.arn)
	}
	page, next, err := paginate(arns, in.NextToken, in.MaxResults, 100, 100, codeInvalidParameter, codeInvalidParameter)
	if err != nil {
		return nil, err
	}
	return withNextToken(map[string]any{"clusterArns": page}, "nextToken", next), nil
}

// listTaskDefinitions is ListTaskDefinitions
// (https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_ListTaskDefinitions.html):
//   - familyPrefix is, despite its name, "The full family name to filter the
//     ListTaskDefinitions results with": it matches one family exactly;
//   - status defaults to ACTIVE; "By setting this parameter to INACTIVE, you can view task
//     definitions that are INACTIVE as long as an active task or service still references them";
//     ecslocal never deletes task definitions, so DELETE_IN_PROGRESS lists none;
//   - sort ASC (the default) lists "lexicographically by family name and in ascending numerical
//     order by revision so that the newest task definitions in a family are listed last", DESC
//     reverses both;
//   - maxResults is 1–100, default 100, with a nextToken when more remain.
func (s *Server) listTaskDefinitions(rc *reqCtx, body []byte) (any, *apiError) {
	var in struct {
		FamilyPrefix string `json:"familyPrefix"`
		Status       string `json:"status"`
		Sort         string `json:"sort"`
		MaxResults   *int   `json:"maxResults"`
		NextToken    string `json:"nextToken"`
	}
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	switch in.Status {
	case "":
		in.Status = "ACTIVE"
	case "ACTIVE", "INACTIVE", "DELETE_IN_PROGRESS":
	default:
		return nil, errf(codeInvalidParameter, "Invalid status %q: must be ACTIVE, INACTIVE or DELETE_IN_PROGRESS.", in.Status)
	}
	switch in.Sort {
	case "", "ASC", "DESC":
	default:
		return nil, errf(codeInvalidParameter, "Invalid sort %q: must be ASC or DESC.", in.Sort)
	}
	referenced := s.referencedTaskDefinitions()
	var families []string
	for f := range s.taskDefs {
		if in.FamilyPrefix == "" || f == in.FamilyPrefix {
			families = append(families, f)
		}
	}
	slices.Sort(families)
	arns := []string{}
	for _, f := range families {
		for _, td := range s.taskDefs[f] {
			switch {
			case td.status != in.Status:
			case td.status == "INACTIVE" && !referenced[td]:
			default:
				arns = append(arns, td.arn)
			}
		}
	}
	if in.Sort == "DESC" {
		slices.Reverse(arns)
	}
	page, next, err := paginate(arns, in.NextToken, in.MaxResults, 100, 100, codeInvalidParameter, codeInvalidParameter)
	if err != nil {
		return nil, err
	}
	return withNextToken(map[string]any{"taskDefinitionArns": page}, "nextToken", next), nil
}

// referencedTaskDefinitions are the task definitions an active task or service references: a
// task that has not stopped, or a deployment of a service that is not INACTIVE.
func (s *Server) referencedTaskDefinitions() map[*taskDefinition]bool {
	out := map[*taskDefinition]bool{}
	for _, c := range s.clusters {
		for _, svc := range c.services {
			if svc.status != "INACTIVE" {
				out[svc.taskDef] = true
				for _, d := range svc.deployments {
					out[d.taskDef] = true
				}
			}
			for _, tk := range svc.tasks {
				if tk.lastStatus != "STOPPED" {
					out[tk.taskDef] = true
				}
			}
		}
	}
	return out
}
