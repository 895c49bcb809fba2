module example.com/go-hello

go 1.24

require github.com/aws/aws-lambda-go v1.50.0
