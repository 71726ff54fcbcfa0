module github.com/verk/verk-go

go 1.19
