package inventory

import (
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/package-url/packageurl-go"
	spdxjson "github.com/spdx/tools-golang/json"
	"github.com/spdx/tools-golang/spdx/v2/common"
	"github.com/spdx/tools-golang/spdx/v2/v2_3"
)

// SPDXMediaType is the media type of the SBOM SPDX writes.
const SPDXMediaType = "application/spdx+json"

// SPDX returns inv as an SPDX 2.3 document: the image as the described
// container package, containing one package per OS package (with its
// package URL). created dates the document; pass the image's creation
// time for a document that is the same on every run.
func (inv *Inventory) SPDX(created time.Time, tool string) *v2_3.Document {
	img := &v2_3.Package{
		PackageName:             inv.Ref,
		PackageSPDXIdentifier:   "Image",
		PackageVersion:          inv.Digest,
		PackageDownloadLocation: "NOASSERTION",
		PrimaryPackagePurpose:   "CONTAINER",
	}
	doc := &v2_3.Document{
		SPDXVersion:       v2_3.Version,
		DataLicense:       v2_3.DataLicense,
		SPDXIdentifier:    "DOCUMENT",
		DocumentName:      inv.Ref,
		DocumentNamespace: "urn:lambdaimg:sbom:" + inv.Digest,
		CreationInfo: &v2_3.CreationInfo{
			Creators: []common.Creator{{CreatorType: "Tool", Creator: tool}},
			Created:  created.UTC().Format(time.RFC3339),
		},
		Packages: []*v2_3.Package{img},
		Relationships: []*v2_3.Relationship{{
			RefA: common.MakeDocElementID("", "DOCUMENT"), RefB: common.MakeDocElementID("", "Image"), Relationship: "DESCRIBES",
		}},
	}
	for i, p := range inv.Packages {
		id := common.ElementID(fmt.Sprintf("Package-%d", i+1))
		doc.Packages = append(doc.Packages, &v2_3.Package{
			PackageName:             p.Name,
			PackageSPDXIdentifier:   id,
			PackageVersion:          p.Version,
			PackageDownloadLocation: "NOASSERTION",
			PrimaryPackagePurpose:   "OPERATING-SYSTEM",
			PackageExternalReferences: []*v2_3.PackageExternalReference{{
				Category: "PACKAGE-MANAGER", RefType: "purl", Locator: inv.purl(p),
			}},
		})
		doc.Relationships = append(doc.Relationships, &v2_3.Relationship{
			RefA: common.MakeDocElementID("", "Image"), RefB: common.MakeDocElementID("", string(id)), Relationship: "CONTAINS",
		})
	}
	return doc
}

// purl is p's package URL, in the form the purl spec gives each type:
// pkg:deb/debian/curl@7.88.1-10?arch=amd64,
// pkg:apk/alpine/musl@1.2.4-r2?arch=x86_64 and
// pkg:rpm/amzn/glibc@2.34-52.amzn2023?arch=x86_64&epoch=1, the rpm's
// epoch a qualifier rather than part of the version. The namespace is the
// image's distro (os-release ID); upstream is the source package.
func (inv *Inventory) purl(p Package) string {
	var q packageurl.Qualifiers
	if p.Arch != "" {
		q = append(q, packageurl.Qualifier{Key: "arch", Value: p.Arch})
	}
	v := p.Version
	if p.Type == "rpm" {
		if epoch, rest, ok := strings.Cut(v, ":"); ok {
			v = rest
			q = append(q, packageurl.Qualifier{Key: "epoch", Value: epoch})
		}
	}
	if p.Source != "" {
		q = append(q, packageurl.Qualifier{Key: "upstream", Value: p.Source})
	}
	ns := strings.ToLower(inv.Distro)
	return packageurl.NewPackageURL(p.Type, ns, p.Name, v, q, "").ToString()
}

// WriteSPDX writes inv's SPDX document as JSON.
func (inv *Inventory) WriteSPDX(w io.Writer, created time.Time, tool string) error {
	return spdxjson.Write(inv.SPDX(created, tool), w, spdxjson.Indent("  "))
}
