module example.com/go-ext

go 1.24
